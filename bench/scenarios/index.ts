// Every scenario `npm run bench` knows, in the order it runs them. A new scenario is one module
// under bench/scenarios/ exporting a `Scenario`, added here.
import type { Scenario } from '../scenario';
import { handlerScenario } from './handler';

export const SCENARIOS: readonly Scenario[] = [handlerScenario];
