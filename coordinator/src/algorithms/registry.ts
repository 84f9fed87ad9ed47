/** Builds the driver a job spec names. */
import type { AlgorithmSpec } from '@optfleet/proto';
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

export function createDriver(alg: AlgorithmSpec, p: ProblemInfo): Driver {
  switch (alg.name) {
    case 'svrg':
      return new SvrgDriver(p, alg);
    case 'sgd':
      return new SgdDriver(p, alg);
    case 'saga':
      return new SagaDriver(p, alg);
    case 'lbfgs':
      return new LbfgsDriver(p, alg);
    case 'lsvrg':
      return new LsvrgDriver(p, alg);
    case 'sarah':
      return new SarahDriver(p, alg);
    case 'page':
      return new PageDriver(p, alg);
    case 'halpern':
      return new HalpernDriver(p, alg);
    case 'vr-halpern':
      return new VrHalpernDriver(p, alg);
    case 'eg':
      return new EgDriver(p, alg);
    case 'eag':
      return new EagDriver(p, alg);
  }
}
