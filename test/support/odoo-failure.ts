import { OdooError } from '../../src/sandbox/odoo/errors.js';

/** The OdooError a sandbox call raises; fails the test when the call succeeds or throws anything else. */
export function odooFailure(run: () => unknown): OdooError {
  try {
    run();
  } catch (error) {
    if (error instanceof OdooError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with an Odoo error');
}
