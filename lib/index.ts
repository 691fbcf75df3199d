export { archivePrefix, PipelineArchive } from './archive';
export type { ArchiveProps } from './archive-props';
export type { IsolatedJob, PipelineSource } from './micro-batch-pipeline';
export { MicroBatchPipeline } from './micro-batch-pipeline';
export type {
  ConcurrencyBudgetMode,
  FailureDestinationKind,
  LambdaPricing,
  MicroBatchPipelineProps,
} from './micro-batch-pipeline-props';
export type { FunctionAlarms, SourceAlarms } from './pipeline-monitoring';
export type { ReferenceCycle, ResourceReference, TemplateResources } from './reference-cycles';
export { addReferenceCycleCheck, describeCycle, findReferenceCycles } from './reference-cycles';
export type { NewStreamProps, SourceProps } from './source-props';
export { PipelinePropsError } from './validate-pipeline-props';
