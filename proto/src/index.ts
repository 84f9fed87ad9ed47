/**
 * @optfleet/proto — the contract shared by coordinator and workers: the optfleet/v1 protobuf
 * messages and services (generated, never hand-edited), the tensor codec, the job-spec schema,
 * keyed counter-based randomness, the fixed reduction tree, error codes and documented limits.
 *
 * ```ts
 * import { parseJobSpec, f64Tensor, decodeF64 } from '@optfleet/proto';
 * const spec = parseJobSpec(yamlText);
 * const t = f64Tensor(new Float64Array([1, 2, 3]));
 * const back = decodeF64(t, 'example');
 * ```
 * @module
 */
export { ERROR_CODES, OptfleetError, toOptfleetError, invalidArgument } from './errors.js';
export { LIMITS } from './limits.js';
export { bilevelStart } from './bilevel-start.js';
export { natsNames, parseWorkerRecord, NATS_BLOB_HEADER } from './nats-names.js';
export { KeyedRng, purposeId, COORDINATOR_SHARD, MAX_SEED } from './rng.js';
export { reduceNode, ownedNodes, preReduce, combineNodes } from './reduce-tree.js';
export { f64Tensor, u32Tensor, decodeF64, decodeU32 } from './tensor-codec.js';
export {
  jobSpecSchema,
  validateJobSpec,
  parseJobSpec,
  defaultShardCount,
  OPERATOR_ALGORITHMS,
  BILEVEL_ALGORITHMS,
  bilevelShape,
} from './job-spec.js';
export {
  PROTOCOL_VERSION,
  OPS,
  OP_POINTS,
  OP_PARAM_POINTS,
  MAX_OP_PARAMS,
  MBBO_STEP_PARAMS,
  MBBO_EVAL_PARAMS,
  isOp,
  shardRange,
  opResultLength,
  opTakesIterates,
} from './protocol.js';
export { graphFromEdges, components, isBipartite, requireConnected } from './graph/graph.js';
export { g12Graph, g12Centres } from './graph/g12.js';
export { rggGraph, rggRadius, RGG_MAX_ATTEMPTS } from './graph/rgg.js';
export { parseEdgeList } from './graph/edge-list.js';
export { baseChain, validateChain } from './graph/chain.js';
export { partitionGraph, visitLayout } from './graph/partition.js';
export { agentData, agentTruth, agentRows, thetaDim, addDirection } from './graph/agents.js';
export { TOKEN, TOKEN_PARAMS, TOKEN_TRAILER, WALK_CODES, tokenRecordLength } from './graph/token.js';
export { buildGraph } from './graph/source.js';
export { ElementType, Tensor as TensorMessage, ErrorInfo } from './gen/optfleet/v1/tensor.js';
export {
  WorkerChannelServiceService,
  WorkerChannelServiceClient,
  ConnectRequest,
  ConnectResponse,
  Task as TaskMessage,
  TaskResult as TaskResultMessage,
} from './gen/optfleet/v1/worker_channel.js';
export {
  JobServiceService,
  JobServiceClient,
  JobState,
  Job as JobMessage,
  Progress as ProgressMessage,
} from './gen/optfleet/v1/job_service.js';

export type { ErrorCode, ErrorValue } from './errors.js';
export type { NatsNames, NatsWorkerRecord } from './nats-names.js';
export type { TreeNodeValue } from './reduce-tree.js';
export type {
  JobSpec,
  JobSpecInput,
  SyntheticDataSpec,
  FileDataSpec,
  AlgorithmSpec,
  BilinearDataSpec,
  ProblemSpec,
  GraphTokenSpec,
  SaSrrwSpec,
  BilevelProblemSpec,
} from './job-spec.js';
export type { Op } from './protocol.js';
export type { Graph } from './graph/graph.js';
export type { BaseChain, WalkKind } from './graph/chain.js';
export type { VisitLayout } from './graph/partition.js';
export type { AgentLossSpec, LossKind as AgentLossKind } from './graph/agents.js';
export type { GraphTokenProblem } from './graph/source.js';
export type { Tensor } from './gen/optfleet/v1/tensor.js';
export type {
  Register,
  Registered,
  Heartbeat,
  OpenShards,
  RunRound,
  ShardWork,
  ShardInfo,
  PartialSum,
  WorkerChannelServiceServer,
} from './gen/optfleet/v1/worker_channel.js';
export type {
  SubmitJobRequest,
  SubmitJobResponse,
  GetJobRequest,
  GetJobResponse,
  WatchJobRequest,
  WatchJobResponse,
  CancelJobRequest,
  CancelJobResponse,
  ListJobsRequest,
  ListJobsResponse,
  ListWorkersRequest,
  ListWorkersResponse,
  WorkerInfo,
  JobServiceServer,
} from './gen/optfleet/v1/job_service.js';
