/**
 * `npm run bench [render|hostile|apply|console|scale|latency|flux]`: benchmarks that print ratios against baselines measured in the same run.
 * `flux` (Baton side by side with Flux) builds Flux's controllers on first use and is not part of `all`;
 * `git-packs` (a source following a busy branch) is not part of `all` either.
 */
import { applyBench } from "./apply.js";
import { consoleBench } from "./console.js";
import { fluxBench } from "./flux/run.js";
import { gitPacksBench } from "./git-packs.js";
import { hostileBench } from "./hostile.js";
import { latencyBench } from "./latency.js";
import { renderBench } from "./render.js";
import { scaleBench } from "./scale.js";

const which = process.argv[2] ?? "all";
if (which === "all" || which === "render") await renderBench();
if (which === "all" || which === "hostile") await hostileBench();
if (which === "all" || which === "apply") await applyBench();
if (which === "all" || which === "console") await consoleBench();
if (which === "all" || which === "scale") await scaleBench();
if (which === "all" || which === "latency") await latencyBench();
if (which === "flux") await fluxBench();
if (which === "git-packs") await gitPacksBench();
