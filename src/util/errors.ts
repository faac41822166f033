// Errors a user can cause: printed as one clear line and mapped to an exit code, never a stack trace.

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
