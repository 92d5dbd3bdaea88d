/**
 * Waves, pure: a stage's targets are promoted wave by wave. Which wave a promotion moves next follows from
 * what each target pins; whether it may move follows from each earlier-wave target's GitHub Deployments
 * (healthy since when, at a revision that contains the pins) — read from GitHub, never from its cluster.
 */
import { formatDuration } from "../config/duration.js";
import { PIPELINE_FILE, type Pipeline, type PipelineEnvironment, type Stage, stageOf, findEnvironment } from "../config/pipeline.js";
import { BatonError } from "../errors.js";

/** Where `promote <from> <to>` writes: a stage (all its targets, wave by wave) or one target by name. */
export interface Destination {
  stage: Stage;
  /** The targets this promotion may edit: the whole stage, or the one target named. */
  targets: PipelineEnvironment[];
  /** Set when `to` names one target of a staged stage: its wave is the one promoted. */
  namedTarget?: PipelineEnvironment;
}

export function destinationOf(pipeline: Pipeline, to: string): Destination {
  const stage = stageOf(pipeline, to);
  if (!stage) {
    throw new BatonError("PIPELINE_UNKNOWN_ENV", `unknown environment "${to}"`, {
      file: PIPELINE_FILE, hint: `use one of: ${[...new Set([...pipeline.stages.map((s) => s.name), ...pipeline.environments.map((e) => e.name)])].join(", ")}`,
    });
  }
  if (!stage.staged || stage.name === to) return { stage, targets: stage.targets };
  const target = findEnvironment(pipeline, to);
  return { stage, targets: [target], namedTarget: target };
}

/** The environment whose policy fields (soak, windows, approvers, autoMerge…) a promotion into `dest` follows: the stage's, shared by its targets. */
export function policyEnvironment(dest: Destination): PipelineEnvironment {
  return (dest.namedTarget ?? dest.stage.targets[0]) as PipelineEnvironment;
}

/**
 * The environment whose pins a promotion out of `from` copies. A target, or a plain environment, is itself;
 * a stage with one target is that target; a stage with several has no single set of pins to copy.
 */
export function sourceEnvironment(pipeline: Pipeline, from: string): PipelineEnvironment {
  const { stage, targets, namedTarget } = destinationOf(pipeline, from);
  if (namedTarget || targets.length === 1) return namedTarget ?? (targets[0] as PipelineEnvironment);
  throw new BatonError("PROMOTE_SOURCE_SPLIT", `${stage.name} has ${targets.length} targets; a promotion copies the pins of one of them`, {
    file: PIPELINE_FILE, field: `environments.${stage.name}.targets`, hint: `name the target to promote from, e.g. baton promote ${targets[targets.length - 1]?.name ?? stage.name} <to>`,
  });
}

export interface WaveChoice {
  /** 1-based. */
  wave: number;
  /** The targets of that wave this promotion edits. */
  targets: PipelineEnvironment[];
  /** Every target of the waves before it: they must run the digests and be healthy and soaked. */
  earlier: PipelineEnvironment[];
}

/**
 * The wave a promotion into `dest` moves: the requested one (`--wave N`, or the named target's), else the
 * first wave with a target that does not yet pin the promoted digests. Undefined: every target already
 * does (nothing to promote). A requested wave whose earlier waves do not pin the digests yet is refused.
 */
export function chooseWave(dest: Destination, runsPromoted: (target: string) => boolean, requested?: number): WaveChoice | undefined {
  const { stage } = dest;
  const wanted = dest.namedTarget?.wave ?? requested;
  if (requested !== undefined && dest.namedTarget && requested !== dest.namedTarget.wave) {
    throw new BatonError("USAGE", `${dest.namedTarget.name} is in wave ${dest.namedTarget.wave} of ${stage.name}, not wave ${requested}`, { field: "--wave", hint: `drop --wave, or promote into ${stage.name} --wave ${requested}` });
  }
  if (wanted !== undefined && (wanted < 1 || wanted > stage.waves.length)) {
    throw new BatonError("USAGE", `${stage.name} has ${stage.waves.length === 1 ? "one wave" : `waves 1 to ${stage.waves.length}`}; there is no wave ${wanted}`, { field: "--wave", hint: `choose a wave of ${stage.name} (${PIPELINE_FILE} targets[].wave)` });
  }
  const index = wanted !== undefined ? wanted - 1 : stage.waves.findIndex((wave) => wave.some((t) => !runsPromoted(t.name)));
  if (index === -1) return undefined;
  const earlier = stage.waves.slice(0, index).flat();
  const behind = earlier.filter((t) => !runsPromoted(t.name));
  if (behind.length > 0) {
    throw new BatonError("PROMOTE_WAVE_NOT_READY", `wave ${index + 1} of ${stage.name} waits for ${behind.map((t) => `${t.name} (wave ${t.wave ?? 1})`).join(", ")} to run these digests first`, {
      file: PIPELINE_FILE, field: `environments.${stage.name}.targets`, hint: `promote the earlier wave first: baton promote <from> ${stage.name} (opens the first wave that does not run them)`,
    });
  }
  const inWave = stage.waves[index] ?? [];
  const targets = dest.namedTarget ? [dest.namedTarget] : inWave;
  return { wave: index + 1, targets, earlier };
}

/**
 * Why the earlier waves do not allow the next one yet (empty: they do). `healthySince` is when each target
 * became healthy at a revision containing its current pins, from its GitHub Deployments (undefined: not).
 */
export function waveBlockers(stage: Stage, earlier: PipelineEnvironment[], healthySince: ReadonlyMap<string, Date | undefined>, now: Date): string[] {
  const out: string[] = [];
  for (const target of earlier) {
    const since = healthySince.get(target.name);
    if (!since) {
      out.push(`${target.name} has no successful deployment of its current revision yet`);
      continue;
    }
    const healthyFor = now.getTime() - since.getTime();
    if (healthyFor < stage.waveSoakMs) out.push(`${target.name} healthy for ${formatDuration(Math.max(0, healthyFor))}; waveSoak needs ${stage.waveSoak ?? formatDuration(stage.waveSoakMs)} (${formatDuration(stage.waveSoakMs - healthyFor)} left)`);
  }
  return out;
}
