/**
 * Loaded (`--import`) into every test file's process before `node:test`. Node 20's test harness enables an
 * async hook with a `destroy` callback to map every async resource to the test that started it; a destroy
 * callback makes V8 track the collection of every promise (a weak callback each). Measured on the
 * end-to-end promotion file: that tracking and the garbage collection it causes were about half of the
 * file's CPU. Node 22 dropped the hook for AsyncLocalStorage.
 *
 * Here the harness's hook keeps only what our tests rely on: it maps the tests themselves (so `test()` and
 * hooks called synchronously inside a test or suite attach to it) and never tracks promises or destroys.
 * What is lost: an uncaught exception thrown from an async callback is not attributed to its test; the
 * harness then reports it at the top level and the file still fails (exit code 1).
 */
import { createRequire } from "node:module";

const asyncHooks = createRequire(import.meta.url)("node:async_hooks");
const createHook = asyncHooks.createHook;

asyncHooks.createHook = function createHookWithoutPromiseTracking(callbacks) {
  const fromHarness = new Error().stack?.includes("internal/test_runner/harness") ?? false;
  if (!fromHarness || typeof callbacks.init !== "function") return createHook(callbacks);
  const init = callbacks.init;
  return createHook({
    init(asyncId, type, triggerAsyncId, resource) {
      // Tests, suites and hooks are AsyncResources of type "Test"; nothing else is mapped, so nothing leaks.
      if (type === "Test") init(asyncId, type, triggerAsyncId, resource);
    },
  });
};
