// No imports: the CLI loads this module on its own, without the runtime's ESM-only dependencies.

/**
 * The client context (`context.clientContext`) that marks an invocation as a deliberate replay:
 * `driverless redrive` sends it with its Invoke calls (base64 JSON, Invoke's `ClientContext`) and
 * `driverless run --ignore-cursors` puts it in the context it builds. The one definition both use,
 * so writer and reader cannot drift apart.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-ClientContext
 */
export const REPLAY_CLIENT_CONTEXT = { custom: { driverlessRedrive: '1' } } as const;
