import { describe, expect, it } from 'vitest';
import { classifyOdooError, OdooError } from './errors.js';

describe('classifyOdooError', () => {
  it.each([
    ['odoo.exceptions.AccessDenied', 'Access Denied', 'access_denied'],
    ['odoo.exceptions.AccessError', "Private methods (such as 'x') cannot be called remotely.", 'access'],
    ['odoo.exceptions.ValidationError', 'Field names must be unique per model.', 'validation'],
    ['odoo.exceptions.UserError', "Object x.nonexistent.model doesn't exist", 'unknown_model'],
    [
      'odoo.exceptions.UserError',
      'You cannot modify the following readonly fields on a posted move: partner_id',
      'user',
    ],
    ['odoo.exceptions.MissingError', 'Record does not exist or has been deleted.', 'missing'],
    ['builtins.KeyError', 'x_does_not_exist', 'unknown_field'],
    ['builtins.ValueError', "Invalid field 'x_foo' on model 'account.move'", 'unknown_field'],
    ['builtins.AttributeError', "The method 'account.move.no_such_method' does not exist", 'unknown_method'],
    [
      'psycopg2.errors.SerializationFailure',
      'could not serialize access due to concurrent update',
      'concurrency',
    ],
    ['odoo.exceptions.LockError', 'locked', 'concurrency'],
    ['psycopg2.OperationalError', 'FATAL:  database "no_such_db" does not exist', 'unknown_database'],
    ['werkzeug.exceptions.NotFound', '404: Not Found', 'not_found'],
    ['something.Else', 'boom', 'server'],
  ])('%s (%s) is %s', (name, message, kind) => {
    expect(classifyOdooError(name, message)).toBe(kind);
  });

  it('retries only what can succeed later', () => {
    expect(new OdooError('concurrency', 'x').retryable).toBe(true);
    expect(new OdooError('timeout', 'x').retryable).toBe(true);
    expect(new OdooError('network', 'x').retryable).toBe(true);
    expect(new OdooError('access_denied', 'x').retryable).toBe(false);
    expect(new OdooError('user', 'x').retryable).toBe(false);
    expect(new OdooError('unknown_field', 'x').retryable).toBe(false);
  });
});
