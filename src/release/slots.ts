/**
 * Rendering a progressive release (pure): the folder's objects + the strategy + release.yaml become what
 * the agent applies. Every Deployment behind the route becomes two slots, `<name>-blue` and
 * `<name>-green` (label `baton.dev/slot` in selector and template); the stable slot runs release.yaml's
 * stable digests, the other slot the digests the folder pins (the candidate). Traffic follows the router:
 *
 * - `service`: the route Service selects the stable slot (blueGreen) or both slots (canary: a replica
 *   ratio); `<route>-preview` selects the other slot.
 * - `gatewayAPI`: the app Service named by the HTTPRoute keeps serving the stable slot in-cluster, plus one
 *   Service per slot; every rule's backendRefs carry weights `100-w` / `w`; an A/B rule (the same matches
 *   plus an Exact header match) sends matching requests to the candidate only.
 *
 * Weights and replicas come from git alone, so drift detection stays exact.
 */
import { BatonError } from "../errors.js";
import { parseImageRef } from "../config/image-ref.js";
import { formatId, type KubeObject, type RenderedObject } from "../config/objects.js";
import { CONTAINER_LIST_KEYS, imageUses } from "../config/pins.js";
import { PIPELINE_FILE, type Strategy } from "../config/pipeline.js";
import { otherSlot, SLOTS, type Release, type Slot } from "./release.js";
import { strategySteps, type StepView } from "./strategy.js";

export const SLOT_LABEL = "baton.dev/slot";
export const GATEWAY_GROUP = "gateway.networking.k8s.io";
/** Gateway API allows at most 16 rules per HTTPRoute. */
const MAX_HTTPROUTE_RULES = 16;

/** Where the release stands, derived from git; what status, commands and the renderer share. */
export interface ReleaseState {
  stableSlot: Slot;
  candidateSlot: Slot;
  stableImages: Record<string, string>;
  /** The digests the folder pins for the route's workloads (the candidate while a step is current). */
  pinnedImages: Record<string, string>;
  /** The current step while a candidate is out. */
  step?: StepView;
  steps: StepView[];
  /** The candidate's share of traffic in percent (0 in steady state). */
  weight: number;
  /** The old slot still runs these digests (a completed release that is not retired yet). */
  previousImages?: Record<string, string>;
  outcome?: Release["outcome"];
}

export interface StrategyInput {
  envName: string;
  /** Index in baton.yaml, for field paths in messages. */
  envIndex: number;
  strategy: Strategy;
  objects: RenderedObject[];
  release?: Release;
  /** Repo-relative path of release.yaml, for messages. */
  releaseFile: string;
}

export interface StrategyOutput {
  objects: RenderedObject[];
  state: ReleaseState;
  /** The Deployments that were split into slots (folder names). */
  workloads: string[];
  /** The Services that carry traffic: route (+ preview) or slot Services. */
  route: { kind: "Service" | "HTTPRoute"; name: string };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

function fail(code: "STRATEGY_ROUTE_NOT_FOUND" | "STRATEGY_NO_WORKLOAD" | "STRATEGY_UNSUPPORTED", input: StrategyInput, message: string, hint: string, object?: RenderedObject): BatonError {
  return new BatonError(code, message, {
    file: object?.source.file ?? PIPELINE_FILE, field: object ? undefined : `environments[${input.envIndex}].strategy.route`,
    ...(object ? { object: formatId(object.id) } : {}), hint,
  });
}

const selectorOf = (service: KubeObject): Record<string, string> | undefined => {
  const spec = service.spec;
  const selector = isObj(spec) ? spec.selector : undefined;
  return isObj(selector) && Object.keys(selector).length > 0 ? (selector as Record<string, string>) : undefined;
};

const templateLabels = (d: KubeObject): Record<string, string> => {
  const spec = isObj(d.spec) ? d.spec : {};
  const template = isObj(spec.template) ? spec.template : {};
  const meta = isObj(template.metadata) ? template.metadata : {};
  return isObj(meta.labels) ? (meta.labels as Record<string, string>) : {};
};

const sameNamespace = (a: RenderedObject, b: RenderedObject): boolean => (a.id.namespace ?? "") === (b.id.namespace ?? "");

/** Finds the route and, behind it, the app Service and its Deployments. */
function locate(input: StrategyInput): { route: RenderedObject; service: RenderedObject; workloads: RenderedObject[] } {
  const { strategy, objects } = input;
  const gateway = strategy.router === "gatewayAPI";
  const route = objects.find((o) => o.id.name === strategy.route && (gateway ? o.id.kind === "HTTPRoute" && o.id.group === GATEWAY_GROUP : o.id.kind === "Service" && o.id.group === ""));
  if (!route) {
    throw fail("STRATEGY_ROUTE_NOT_FOUND", input, `strategy.route names ${gateway ? "HTTPRoute" : "Service"} "${strategy.route}", which ${input.envName}'s folder does not define`,
      gateway ? `add an HTTPRoute (${GATEWAY_GROUP}/v1) named ${strategy.route} to the folder, or fix strategy.route` : `add a Service named ${strategy.route} to the folder, or fix strategy.route`);
  }
  let service = route;
  if (gateway) {
    const names = new Set<string>();
    for (const rule of ruleList(route.object)) {
      for (const ref of backendRefs(rule)) {
        const kind = typeof ref.kind === "string" ? ref.kind : "Service";
        const group = typeof ref.group === "string" ? ref.group : "";
        const namespace = typeof ref.namespace === "string" ? ref.namespace : route.id.namespace;
        if (kind !== "Service" || group !== "" || namespace !== route.id.namespace || typeof ref.name !== "string") {
          throw fail("STRATEGY_UNSUPPORTED", input, `HTTPRoute ${strategy.route} has a backendRef that is not a Service in its own namespace`, "point every backendRef at the app's Service in the same namespace; Baton splits it into one Service per slot", route);
        }
        names.add(ref.name);
      }
    }
    if (names.size !== 1) {
      throw fail("STRATEGY_UNSUPPORTED", input, `HTTPRoute ${strategy.route} must send every rule to one Service, found ${names.size === 0 ? "none" : [...names].join(", ")}`, "give every rule one backendRef to the app's Service; Baton writes the weighted slot refs", route);
    }
    const name = [...names][0] as string;
    const found = objects.find((o) => o.id.kind === "Service" && o.id.group === "" && o.id.name === name && sameNamespace(o, route));
    if (!found) throw fail("STRATEGY_ROUTE_NOT_FOUND", input, `HTTPRoute ${strategy.route} sends traffic to Service ${name}, which the folder does not define`, `add Service ${name} to the folder`, route);
    service = found;
  }
  const selector = selectorOf(service.object);
  if (!selector) throw fail("STRATEGY_UNSUPPORTED", input, `Service ${service.id.name} has no selector, so no workload is behind the route`, "give the Service a spec.selector that matches the app's Deployment", service);
  if (SLOT_LABEL in selector) throw fail("STRATEGY_UNSUPPORTED", input, `Service ${service.id.name} already selects ${SLOT_LABEL}; Baton writes that label`, `remove ${SLOT_LABEL} from the selector`, service);
  const workloads = objects.filter((o) => o.id.kind === "Deployment" && o.id.group === "apps" && sameNamespace(o, service)
    && Object.entries(selector).every(([k, v]) => templateLabels(o.object)[k] === v));
  if (workloads.length === 0) {
    throw fail("STRATEGY_NO_WORKLOAD", input, `no Deployment in ${input.envName}'s folder matches Service ${service.id.name}'s selector ${JSON.stringify(selector)}`,
      "the strategy splits the Deployments behind the route into slots; add the Deployment or fix the selector", service);
  }
  for (const w of workloads) {
    if (w.id.name.length > 63 - "-green".length) throw fail("STRATEGY_UNSUPPORTED", input, `Deployment ${w.id.name} is too long to add a slot suffix (-blue/-green)`, "shorten the name to at most 57 characters", w);
  }
  if (service.id.name.length > 63 - "-preview".length) throw fail("STRATEGY_UNSUPPORTED", input, `Service ${service.id.name} is too long to add a slot suffix`, "shorten the name to at most 55 characters", service);
  // An autoscaler of a split Deployment would lose its target (FailedGetScale: the environment never turns
  // healthy, and autoAbort would fire), and would fight the replica counts the release writes.
  const names = new Set(workloads.map((w) => w.id.name));
  const hpa = objects.find((o) => o.id.kind === "HorizontalPodAutoscaler" && o.id.group === "autoscaling" && sameNamespace(o, service) && scalesDeployment(o.object, names));
  if (hpa) {
    throw fail("STRATEGY_UNSUPPORTED", input, `HorizontalPodAutoscaler ${hpa.id.name} scales Deployment ${String(scaleTarget(hpa.object)?.name)}, which the strategy splits into -blue/-green slots`,
      "HPAs are not split per slot yet: remove the HPA from this environment (set the Deployment's replicas), or remove the strategy", hpa);
  }
  return { route, service, workloads };
}

const scaleTarget = (hpa: KubeObject): Obj | undefined => {
  const spec = isObj(hpa.spec) ? hpa.spec : {};
  return isObj(spec.scaleTargetRef) ? spec.scaleTargetRef : undefined;
};

function scalesDeployment(hpa: KubeObject, names: Set<string>): boolean {
  const target = scaleTarget(hpa);
  return target?.kind === "Deployment" && typeof target.name === "string" && names.has(target.name);
}

function ruleList(route: KubeObject): Obj[] {
  const spec = isObj(route.spec) ? route.spec : {};
  return Array.isArray(spec.rules) ? spec.rules.filter(isObj) : [];
}

function backendRefs(rule: Obj): Obj[] {
  return Array.isArray(rule.backendRefs) ? rule.backendRefs.filter(isObj) : [];
}

/** The route's workloads' pins as repository → digest. */
function workloadImages(workloads: RenderedObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of workloads) {
    for (const use of imageUses(w)) {
      const parsed = parseImageRef(use.image);
      if (parsed.ok && parsed.ref.digest) out[parsed.ref.repository] = parsed.ref.digest;
    }
  }
  return out;
}

const sameImages = (a: Record<string, string>, b: Record<string, string>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

function mismatch(input: StrategyInput, field: string, message: string, hint: string): BatonError {
  return new BatonError("RELEASE_MISMATCH", message, { file: input.releaseFile, field, hint });
}

/** Where the release stands; throws when release.yaml disagrees with the pins or the strategy. */
export function releaseState(input: StrategyInput, pinned: Record<string, string>): ReleaseState {
  const { release, strategy } = input;
  const steps = strategySteps(strategy);
  const stableImages = release?.stable.images ?? pinned;
  const repos = (r: Record<string, string>) => Object.keys(r).sort().join(", ") || "(none)";
  if (Object.keys(stableImages).sort().join() !== Object.keys(pinned).sort().join()) {
    throw mismatch(input, "stable.images", `stable.images lists ${repos(stableImages)} but the route's workloads pin ${repos(pinned)}`,
      "stable.images must name exactly the images of the Deployments behind the route; restore release.yaml from git log");
  }
  if (release?.previous && Object.keys(release.previous.images).sort().join() !== Object.keys(pinned).sort().join()) {
    throw mismatch(input, "previous.images", `previous.images lists ${repos(release.previous.images)} but the route's workloads pin ${repos(pinned)}`, "remove previous (that retires the old slot)");
  }
  const state: ReleaseState = {
    stableSlot: release?.stable.slot ?? "blue",
    candidateSlot: otherSlot(release?.stable.slot ?? "blue"),
    stableImages, pinnedImages: pinned, steps, weight: 0,
    ...(release?.outcome ? { outcome: release.outcome } : {}),
  };
  if (release?.step === undefined) {
    if (!sameImages(stableImages, pinned)) {
      throw mismatch(input, "step", "the folder pins other digests than stable.images, but no step is set",
        "a release into this environment starts with baton promote (it writes step: 0); to take the pins as stable, set stable.images to them");
    }
    if (release?.previous) state.previousImages = release.previous.images;
    return state;
  }
  if (release.previous) throw mismatch(input, "previous", "a release is in progress (step is set) while the old slot of the last release is not retired", "remove previous: the candidate needs that slot");
  if (sameImages(stableImages, pinned)) {
    throw mismatch(input, "step", `step is ${release.step} but the folder pins the stable digests: there is no candidate`, "remove step (steady state), or promote a new digest");
  }
  const step = steps[release.step];
  if (!step) throw mismatch(input, "step", `step is ${release.step} but the strategy has ${steps.length} step(s)`, `use 0..${steps.length - 1}, or run baton confirm to complete the release`);
  return { ...state, step, weight: step.weight };
}

function withLabel(labels: unknown, slot: Slot): Record<string, string> {
  return { ...(isObj(labels) ? (labels as Record<string, string>) : {}), [SLOT_LABEL]: slot };
}

/** Rewrites every container image of a repository in `images` to repo@digest. */
function setImages(object: Obj, images: Record<string, string>): void {
  const visit = (value: unknown, inContainerList: boolean): void => {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (inContainerList && isObj(item) && typeof item.image === "string") {
          const parsed = parseImageRef(item.image);
          const digest = parsed.ok ? images[parsed.ref.repository] : undefined;
          if (parsed.ok && digest && parsed.ref.digest !== digest) item.image = `${parsed.ref.repository}@${digest}`;
        }
        visit(item, false);
      }
    } else if (isObj(value)) {
      for (const [key, child] of Object.entries(value)) visit(child, CONTAINER_LIST_KEYS.has(key) && Array.isArray(child));
    }
  };
  visit(object, false);
}

/** One slot of a Deployment: suffixed name, slot label in labels, selector and template; given replicas and images. */
function slotDeployment(source: RenderedObject, slot: Slot, replicas: number, images: Record<string, string> | undefined): RenderedObject {
  const obj = clone(source.object) as KubeObject & { spec: Obj };
  obj.metadata = { ...obj.metadata, name: `${source.id.name}-${slot}`, labels: withLabel(obj.metadata.labels, slot) };
  const spec = isObj(obj.spec) ? obj.spec : (obj.spec = {});
  spec.replicas = replicas;
  const selector = isObj(spec.selector) ? spec.selector : (spec.selector = {});
  selector.matchLabels = withLabel(selector.matchLabels, slot);
  const template = isObj(spec.template) ? spec.template : (spec.template = {});
  const meta = isObj(template.metadata) ? template.metadata : (template.metadata = {});
  meta.labels = withLabel(meta.labels, slot);
  if (images) setImages(obj, images);
  return { ...source, id: { ...source.id, name: obj.metadata.name }, object: obj };
}

/** A copy of a Service under another name selecting one slot; fixed cluster IPs and node ports stay with the original. */
function serviceCopy(source: RenderedObject, name: string, slot: Slot | undefined): RenderedObject {
  const obj = clone(source.object) as KubeObject & { spec: Obj };
  obj.metadata = { ...obj.metadata, name };
  if (slot) obj.metadata.labels = withLabel(obj.metadata.labels, slot);
  const spec = obj.spec;
  delete spec.clusterIP;
  delete spec.clusterIPs;
  if (Array.isArray(spec.ports)) spec.ports = spec.ports.map((p) => (isObj(p) ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== "nodePort")) : p));
  if (slot) spec.selector = withLabel(spec.selector, slot);
  return { ...source, id: { ...source.id, name }, object: obj };
}

function selectSlot(source: RenderedObject, slot: Slot | undefined): RenderedObject {
  const obj = clone(source.object) as KubeObject & { spec: Obj };
  if (slot) obj.spec.selector = withLabel(obj.spec.selector, slot);
  return { ...source, object: obj };
}

/** HTTPRoute rules with weighted slot backendRefs, and an A/B rule per rule while a candidate is out. */
function weightedRoute(route: RenderedObject, service: string, state: ReleaseState, strategy: Strategy, input: StrategyInput): RenderedObject {
  const obj = clone(route.object) as KubeObject & { spec: Obj };
  const rules: Obj[] = [];
  const slotRef = (ref: Obj, slot: Slot, weight?: number): Obj => {
    const { weight: _drop, ...rest } = ref;
    return { ...rest, name: `${service}-${slot}`, ...(weight === undefined ? {} : { weight }) };
  };
  for (const rule of ruleList(route.object)) {
    const ref = backendRefs(rule)[0] as Obj;
    if (strategy.abTest && state.step) {
      const header = { type: "Exact", name: strategy.abTest.header, value: strategy.abTest.value };
      const matches = Array.isArray(rule.matches) && rule.matches.length > 0 ? rule.matches.filter(isObj) : [{ path: { type: "PathPrefix", value: "/" } }];
      rules.push({
        ...clone(rule),
        ...(typeof rule.name === "string" ? { name: `${rule.name}-ab` } : {}),
        matches: matches.map((m) => ({ ...clone(m), headers: [...(Array.isArray(m.headers) ? clone(m.headers) : []), header] })),
        backendRefs: [slotRef(ref, state.candidateSlot)],
      });
    }
    rules.push({ ...clone(rule), backendRefs: [slotRef(ref, state.stableSlot, 100 - state.weight), slotRef(ref, state.candidateSlot, state.weight)] });
  }
  if (rules.length > MAX_HTTPROUTE_RULES) {
    throw fail("STRATEGY_UNSUPPORTED", input, `with the A/B rules HTTPRoute ${route.id.name} would have ${rules.length} rules (Gateway API allows ${MAX_HTTPROUTE_RULES})`, "use at most 8 rules in the HTTPRoute when abTest is set", route);
  }
  obj.spec.rules = rules;
  return { ...route, object: obj };
}

/** Replica counts per slot for the state: the candidate by weight, the stable slot at full size. */
export function slotReplicas(strategy: Strategy, state: ReleaseState, replicas: number): Record<Slot, number> {
  const out = { blue: 0, green: 0 } as Record<Slot, number>;
  if (!state.step) {
    out[state.stableSlot] = replicas;
    out[state.candidateSlot] = state.previousImages ? replicas : 0;
    return out;
  }
  if (strategy.type === "blueGreen") {
    out[state.stableSlot] = replicas;
    out[state.candidateSlot] = replicas;
    return out;
  }
  // A canary runs at least one candidate pod, so health (and an A/B header) has something to reach.
  out[state.candidateSlot] = Math.max(1, Math.ceil((replicas * state.weight) / 100));
  // On the service router the split is a replica ratio: the stable slot gives up the candidate's share.
  out[state.stableSlot] = strategy.router === "service" ? replicas - Math.floor((replicas * state.weight) / 100) : replicas;
  return out;
}

/** The objects the agent applies for an environment with a strategy. */
export function renderStrategy(input: StrategyInput): StrategyOutput {
  const { strategy, objects } = input;
  const { route, service, workloads } = locate(input);
  const state = releaseState(input, workloadImages(workloads));
  const workloadKeys = new Set(workloads);
  const out: RenderedObject[] = [];
  for (const o of objects) {
    if (workloadKeys.has(o)) {
      const spec = isObj(o.object.spec) ? o.object.spec : {};
      const replicas = slotReplicas(strategy, state, typeof spec.replicas === "number" ? spec.replicas : 1);
      for (const slot of SLOTS) {
        const images = slot === state.stableSlot ? state.stableImages : state.step ? undefined : state.previousImages ?? state.stableImages;
        out.push(slotDeployment(o, slot, replicas[slot], images));
      }
    } else if (o === service) {
      // blueGreen moves all traffic at once; a canary on the service router spreads it over both slots.
      const active = strategy.router === "service" && strategy.type === "canary" && state.step ? undefined : state.stableSlot;
      out.push(selectSlot(o, active));
      if (strategy.router === "service") out.push(serviceCopy(o, `${o.id.name}-preview`, state.candidateSlot));
      else for (const slot of SLOTS) out.push(serviceCopy(o, `${o.id.name}-${slot}`, slot));
    } else if (o === route) {
      out.push(weightedRoute(o, service.id.name, state, strategy, input));
    } else {
      out.push(o);
    }
  }
  return { objects: out, state, workloads: workloads.map((w) => w.id.name), route: { kind: strategy.router === "gatewayAPI" ? "HTTPRoute" : "Service", name: strategy.route } };
}
