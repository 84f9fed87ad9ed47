/** Builds the driver a job spec names. */
import { ERROR_CODES, OptfleetError, type AlgorithmSpec } from '@optfleet/proto';
import type { Driver, ProblemInfo } from './driver.js';
import { LbfgsDriver } from './finite-sum/lbfgs/driver.js';
import { LsvrgDriver } from './finite-sum/lsvrg/driver.js';
import { PageDriver } from './finite-sum/page/driver.js';
import { SagaDriver } from './finite-sum/saga/driver.js';
import { SarahDriver } from './finite-sum/sarah/driver.js';
import { SgdDriver } from './finite-sum/sgd/driver.js';
import { SvrgDriver } from './finite-sum/svrg/driver.js';
import { EagDriver } from './operator/eag/driver.js';
import { EgDriver } from './operator/eg/driver.js';
import { HalpernDriver } from './operator/halpern/driver.js';
import { VrHalpernDriver } from './operator/vr-halpern/driver.js';
import { VrHalpernForbDriver } from './operator/vr-halpern-forb/driver.js';
import { BsvrbDriver } from './bilevel/bsvrb/driver.js';

/** `x0`: the starting point (default 0; operator problems pass their geometry's feasible start). */
export function createDriver(alg: AlgorithmSpec, p: ProblemInfo, x0?: Float64Array): Driver {
  switch (alg.name) {
    case 'svrg':
      return new SvrgDriver(p, alg, x0);
    case 'sgd':
      return new SgdDriver(p, alg, x0);
    case 'saga':
      return new SagaDriver(p, alg, x0);
    case 'lbfgs':
      return new LbfgsDriver(p, alg, x0);
    case 'lsvrg':
      return new LsvrgDriver(p, alg, x0);
    case 'sarah':
      return new SarahDriver(p, alg, x0);
    case 'page':
      return new PageDriver(p, alg, x0);
    case 'halpern':
      return new HalpernDriver(p, alg, x0);
    case 'vr-halpern':
      return new VrHalpernDriver(p, alg, x0);
    case 'vr-halpern-forb':
      return new VrHalpernForbDriver(p, alg, x0);
    case 'eg':
      return new EgDriver(p, alg, x0);
    case 'eag':
      return new EagDriver(p, alg, x0);
    case 'sa-srrw':
      // Token walks need the graph layout: jobs/token-runner.ts builds SrrwDriver itself.
      throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'spec.algorithm.name: sa-srrw runs on graph-token problems only');
    case 'bsvrb-v1':
    case 'bsvrb-v2':
    case 'stoch-bilevel':
      return new BsvrbDriver(p, alg, x0);
  }
}
