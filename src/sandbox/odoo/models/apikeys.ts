/**
 * API key creation the way Odoo allows it: only from a web session (description → make_key →
 * identity check with the password → run_check shows the key). The key then works as a password.
 */
import { randomBytes } from 'node:crypto';
import { GROUPS } from '../access.js';
import { userError, validationError } from '../errors.js';
import { singleRecord } from '../orm.js';
import type { Env, Registry } from '../registry.js';

const DURATIONS = [
  ['1', '1 Day'],
  ['7', '1 Week'],
  ['30', '1 Month'],
  ['90', '3 Months'],
  ['180', '6 Months'],
  ['365', '1 Year'],
  ['0', 'Persistent Key'],
] as const;

/**
 * Odoo's _check_expiration_date: Settings users may make persistent keys of any length; others
 * need an expiration ("0" is persistent, 63b) within the longest duration of their groups (90
 * days for an Internal User; 1 day when no group grants any).
 */
function checkExpiration(env: Env, duration: string): void {
  if (env.su || env.groups.has('base.group_system')) return;
  const days = Number.parseInt(duration, 10);
  if (!Number.isFinite(days) || days <= 0) throw validationError('The API key must have an expiration date');
  const longest = Math.max(0, ...[...env.groups].map((xmlid) => GROUPS[xmlid].apiKeyDays)) || 1;
  if (days > longest) throw validationError(`You cannot exceed ${longest.toFixed(1)} days.`);
}

export function defineApiKeyModels(reg: Registry): void {
  reg.define({
    name: 'res.users.apikeys.description',
    description: 'API Key Description',
    fields: {
      name: { type: 'char', string: 'Description', required: true },
      duration: { type: 'selection', string: 'Duration', selection: DURATIONS },
    },
    defaults: (vals, env) => {
      checkExpiration(env, String(vals.duration ?? '0'));
      return vals;
    },
    methods: {
      make_key: {
        params: [],
        httpOnly: true,
        run: (call) => {
          const description = singleRecord(call);
          const check = call.reg.insert(
            'res.users.identitycheck',
            {
              request: `res.users.apikeys.description(${description.id},).make_key`,
              description_id: description.id,
            },
            call.env,
          );
          const action = {
            type: 'ir.actions.act_window',
            res_model: 'res.users.identitycheck',
            res_id: check.id,
            name: call.reg.traits.identityCheckTitle,
            target: 'new',
            views: [[false, 'form']],
          };
          return call.reg.traits.identityCheckDialogSize
            ? { ...action, context: { dialog_size: 'medium' } }
            : action;
        },
      },
    },
  });

  reg.define({
    name: 'res.users.identitycheck',
    description: 'Password Check Wizard',
    fields: {
      request: { type: 'char', string: 'Request' },
      password: { type: 'char', string: 'Password' },
      description_id: {
        type: 'many2one',
        string: 'Key Description',
        relation: 'res.users.apikeys.description',
      },
    },
    methods: {
      run_check: {
        params: [],
        httpOnly: true,
        run: (call) => {
          const check = singleRecord(call);
          // 18.0 writes the password on the wizard first; 19.0 passes it in the context.
          const password = typeof check.password === 'string' ? check.password : call.env.context.password;
          if (password !== call.reg.passwords.get(call.env.uid)) {
            throw userError(
              'Incorrect Password, try again or click on Forgot Password to reset your password.',
            );
          }
          call.reg.update('res.users.identitycheck', check, { password: false }, call.env);
          const key = randomBytes(20).toString('hex');
          const keys = call.reg.apiKeys.get(call.env.uid) ?? new Set<string>();
          keys.add(key);
          call.reg.apiKeys.set(call.env.uid, keys);
          return {
            type: 'ir.actions.act_window',
            res_model: 'res.users.apikeys.show',
            name: 'API Key Ready',
            views: [[false, 'form']],
            target: 'new',
            context: { default_key: key },
          };
        },
      },
    },
  });
}
