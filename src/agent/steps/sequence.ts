/**
 * The reconcile as a fixed sequence of named steps: fetch → trust → render → verify → plan → apply → prune → health.
 * Each step receives the results of the steps before it and returns its own; the first step that throws
 * ends the run. Observers see every step result as it happens (a GitHub Deployment starts once the plan
 * is known; Events about applied objects go out before the health wait), and the report is derived from
 * the outcome afterwards, so the steps themselves do the work and nothing else (as in Flux's
 * kustomize-controller, where one place at the end turns what happened into conditions and events).
 */
export const STEP_NAMES = ["fetch", "trust", "render", "verify", "plan", "apply", "prune", "health"] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** What each step returns, by name. */
export type StepOutputs = Record<StepName, unknown>;

export interface Steps<O extends StepOutputs> {
  fetch(): Promise<O["fetch"]>;
  trust(done: Pick<O, "fetch">): Promise<O["trust"]>;
  render(done: Pick<O, "fetch" | "trust">): Promise<O["render"]>;
  verify(done: Pick<O, "fetch" | "trust" | "render">): Promise<O["verify"]>;
  plan(done: Pick<O, "fetch" | "trust" | "render" | "verify">): Promise<O["plan"]>;
  apply(done: Pick<O, "fetch" | "trust" | "render" | "verify" | "plan">): Promise<O["apply"]>;
  prune(done: Pick<O, "fetch" | "trust" | "render" | "verify" | "plan" | "apply">): Promise<O["prune"]>;
  health(done: Pick<O, "fetch" | "trust" | "render" | "verify" | "plan" | "apply" | "prune">): Promise<O["health"]>;
}

export type StepResult<O extends StepOutputs> =
  | { [K in StepName]: { step: K; ok: true; value: O[K] } }[StepName]
  | { step: StepName; ok: false; error: unknown };

/** Every step's result when all succeeded; otherwise the step that failed, its error and what came before. */
export type Outcome<O extends StepOutputs> =
  | { ok: true; done: { [K in StepName]: O[K] } }
  | { ok: false; step: StepName; error: unknown; done: Partial<{ [K in StepName]: O[K] }> };

export type StepObserver<O extends StepOutputs> = (result: StepResult<O>, done: Partial<{ [K in StepName]: O[K] }>) => Promise<void> | void;

export async function runSteps<O extends StepOutputs>(steps: Steps<O>, observe: StepObserver<O>): Promise<Outcome<O>> {
  const done: Partial<{ [K in StepName]: O[K] }> = {};
  let step: StepName = "fetch";
  try {
    const fetch = await steps.fetch();
    done.fetch = fetch;
    await observe({ step, ok: true, value: fetch }, done);
    step = "trust";
    const trust = await steps.trust({ fetch });
    done.trust = trust;
    await observe({ step, ok: true, value: trust }, done);
    step = "render";
    const render = await steps.render({ fetch, trust });
    done.render = render;
    await observe({ step, ok: true, value: render }, done);
    step = "verify";
    const verify = await steps.verify({ fetch, trust, render });
    done.verify = verify;
    await observe({ step, ok: true, value: verify }, done);
    step = "plan";
    const plan = await steps.plan({ fetch, trust, render, verify });
    done.plan = plan;
    await observe({ step, ok: true, value: plan }, done);
    step = "apply";
    const apply = await steps.apply({ fetch, trust, render, verify, plan });
    done.apply = apply;
    await observe({ step, ok: true, value: apply }, done);
    step = "prune";
    const prune = await steps.prune({ fetch, trust, render, verify, plan, apply });
    done.prune = prune;
    await observe({ step, ok: true, value: prune }, done);
    step = "health";
    const health = await steps.health({ fetch, trust, render, verify, plan, apply, prune });
    done.health = health;
    await observe({ step, ok: true, value: health }, done);
    return { ok: true, done: { fetch, trust, render, verify, plan, apply, prune, health } };
  } catch (error) {
    await observe({ step, ok: false, error }, done);
    return { ok: false, step, error, done };
  }
}
