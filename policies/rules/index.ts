import type { Rule } from "../engine/types";
import { cloudAndServingRules } from "./cloud-and-serving";
import { clusterRules } from "./cluster";
import { podSecurityRules } from "./pod-security";
import { workloadRules } from "./workloads";

/** Every rule, in report order. Ids are unique (checked at load). */
export const allRules: readonly Rule[] = (() => {
  const rules = [...podSecurityRules, ...workloadRules, ...clusterRules, ...cloudAndServingRules];
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.id)) throw new Error(`duplicate policy rule id '${r.id}'`);
    seen.add(r.id);
  }
  return rules;
})();
