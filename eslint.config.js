// Lint rules: typescript-eslint's recommended set, with `any` forbidden so types stay the spec.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "test/fixtures/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // @kubernetes/client-node costs ~75 MiB and a second of CPU to load: the product loads it only with
    // import() for exec/auth-provider kubeconfig users (src/kube/credentials.ts), never statically.
    files: ["src/**/*.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": ["error", { paths: [{ name: "@kubernetes/client-node", allowTypeImports: true, message: "load it with import() where it is needed (see src/kube/credentials.ts)" }] }],
    },
  },
  {
    // The console's page script runs in the browser, as plain JavaScript.
    files: ["src/console/assets/**/*.js"],
    languageOptions: {
      sourceType: "module",
      globals: { window: "readonly", document: "readonly", location: "readonly", fetch: "readonly", EventSource: "readonly", console: "readonly" },
    },
  },
);
