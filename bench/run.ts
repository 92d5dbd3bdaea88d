/** `npm run bench [render|hostile|apply|console]`: benchmarks that print ratios against baselines measured in the same run. */
import { applyBench } from "./apply.js";
import { consoleBench } from "./console.js";
import { hostileBench } from "./hostile.js";
import { renderBench } from "./render.js";

const which = process.argv[2] ?? "all";
if (which === "all" || which === "render") await renderBench();
if (which === "all" || which === "hostile") await hostileBench();
if (which === "all" || which === "apply") await applyBench();
if (which === "all" || which === "console") await consoleBench();
