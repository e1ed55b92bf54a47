import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The real Odoo request/response pairs beside the repository (shared/odoo-captures). */
export const CAPTURES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../shared/odoo-captures',
);

/** A JSON value as Odoo sent it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.null(),
    z.boolean(),
    z.number(),
    z.string(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
export const jsonObject = z.record(z.string(), jsonValue);
