// Every scenario `npm run bench` knows, in the order it runs them. A new scenario is one module
// under bench/scenarios/ exporting a `Scenario`, added here.
import type { Scenario } from '../scenario';
import { backfillScenario } from './backfill';
import { coldStartScenario } from './cold-start';
import { cursorsScenario } from './cursors';
import { devLoopScenario } from './dev-loop';
import { handlerScenario } from './handler';
import { jobsScenario } from './jobs';
import { localScenario } from './local';
import { shardsScenario } from './shards';
import { starvationScenario } from './starvation';
import { stateScenario } from './state';
import { synthScenario } from './synth';
import { upgradeScenario } from './upgrade';

export const SCENARIOS: readonly Scenario[] = [
  handlerScenario,
  starvationScenario,
  jobsScenario,
  upgradeScenario,
  localScenario,
  shardsScenario,
  cursorsScenario,
  stateScenario,
  coldStartScenario,
  synthScenario,
  devLoopScenario,
  backfillScenario,
];
