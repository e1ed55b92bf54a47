/** Assembles the sandbox's Odoo registry: every model definition, then the ir.model catalogue. */
import { Registry, type RegistryOptions } from '../registry.js';
import { defineAccountModels } from './account.js';
import { defineActionModels } from './actions.js';
import { defineApiKeyModels } from './apikeys.js';
import { defineBaseModels } from './base.js';
import { defineComposeModels } from './compose.js';
import { defineConfigModels } from './config.js';
import { defineIrModels, registerModelCatalogue } from './ir.js';
import { defineMailModels } from './mail.js';
import { definePaymentModels } from './payment.js';
import { defineViewModels } from './views.js';

export function createRegistry(options: RegistryOptions): Registry {
  const reg = new Registry(options);
  defineBaseModels(reg);
  defineMailModels(reg);
  defineIrModels(reg);
  defineActionModels(reg);
  defineConfigModels(reg);
  defineViewModels(reg);
  defineApiKeyModels(reg);
  defineAccountModels(reg);
  definePaymentModels(reg);
  defineComposeModels(reg);
  registerModelCatalogue(reg);
  return reg;
}
