/**
 * Errors the Lambda service itself raises (before or around the function), as opposed to function
 * errors, which are data in an `InvokeResult`. The code is the AWS error code the SDK maps to an
 * exception class.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
 */
export type LambdaServiceErrorCode =
  | 'ResourceNotFoundException'
  | 'InvalidParameterValueException'
  | 'InvalidRequestContentException'
  | 'RequestTooLargeException'
  | 'TooManyRequestsException'
  | 'AccessDeniedException'
  | 'ServiceException';

const STATUS: Record<LambdaServiceErrorCode, number> = {
  ResourceNotFoundException: 404,
  InvalidParameterValueException: 400,
  InvalidRequestContentException: 400,
  RequestTooLargeException: 413,
  TooManyRequestsException: 429,
  AccessDeniedException: 403,
  ServiceException: 500,
};

export class LambdaServiceError extends Error {
  override readonly name: LambdaServiceErrorCode;
  /** HTTP status the Lambda API answers with. */
  readonly statusCode: number;
  /** `User` for caller faults, `Service` for the service's own (the `Type` field of the body). */
  readonly type: 'User' | 'Service';

  constructor(code: LambdaServiceErrorCode, message: string) {
    super(message);
    this.name = code;
    this.statusCode = STATUS[code];
    this.type = code === 'ServiceException' ? 'Service' : 'User';
  }
}
