// Malformed device-tree input: one clear line naming the file (and position), exit code 2.
import { UserError } from '../util/errors.js';

export class DeviceTreeError extends UserError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'DeviceTreeError';
  }
}
