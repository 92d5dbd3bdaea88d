/** `npm run bench [render|apply]`: benchmarks that print ratios against baselines measured in the same run. */
import { applyBench } from "./apply.js";
import { renderBench } from "./render.js";

const which = process.argv[2] ?? "all";
if (which === "all" || which === "render") await renderBench();
if (which === "all" || which === "apply") await applyBench();
