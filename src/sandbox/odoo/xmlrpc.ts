/**
 * The sandbox's XML-RPC face: `POST /xmlrpc/2/<service>` (common, object, db) on every version,
 * dispatched like /jsonrpc, answered the way Odoo's XMLRPC controller does: HTTP 200 and a
 * methodResponse, or a fault whose code says the class family (xmlrpc_handle_exception_int:
 * 4 AccessError, 3 AccessDenied, 2 UserError and its subclasses, 1 anything else with the
 * formatted traceback as faultString).
 */
import { decodeMethodCall, encodeFault, encodeMethodResponse } from '../../odoo/xmlrpc-codec.js';
import { type Dispatcher, dispatchRpc } from './dispatch.js';
import { type Json, ODOO_EXCEPTIONS, OdooError, serializeError } from './errors.js';

export interface XmlRpcAnswer {
  status: number;
  body: string;
  headers: Record<string, string>;
  drop?: boolean;
}

const XML_HEADERS = { 'Content-Type': 'text/xml; charset=utf-8' };

/** odoo.exceptions subclasses of UserError (fault code 2) besides UserError itself. */
const WARNINGS: ReadonlySet<string> = new Set([
  ODOO_EXCEPTIONS.userError,
  ODOO_EXCEPTIONS.validationError,
  ODOO_EXCEPTIONS.missingError,
  'odoo.exceptions.RedirectWarning',
]);

export function xmlRpcService(path: string): string | undefined {
  return /^\/xmlrpc\/2\/([^/]+)$/.exec(path)?.[1];
}

function fault(error: unknown, dispatcher: Dispatcher): string {
  const name = error instanceof OdooError ? error.className : 'builtins.Exception';
  const message = error instanceof Error ? error.message : String(error);
  if (name === ODOO_EXCEPTIONS.accessError) return encodeFault({ faultCode: 4, faultString: message });
  if (name === ODOO_EXCEPTIONS.accessDenied) return encodeFault({ faultCode: 3, faultString: message });
  if (WARNINGS.has(name)) return encodeFault({ faultCode: 2, faultString: message });
  return encodeFault({ faultCode: 1, faultString: serializeError(error, dispatcher.reg.version).data.debug });
}

export async function xmlRpcRoute(
  dispatcher: Dispatcher,
  service: string,
  body: Buffer,
): Promise<XmlRpcAnswer> {
  let call: { method: string; params: unknown[] };
  try {
    call = await decodeMethodCall(body.toString('utf8'));
  } catch (error) {
    const parseError = new OdooError(
      'xml.parsers.expat.ExpatError',
      error instanceof Error ? error.message : 'not well-formed (invalid token)',
    );
    return { status: 200, body: fault(parseError, dispatcher), headers: XML_HEADERS };
  }
  try {
    const outcome = dispatchRpc(
      dispatcher,
      { service, method: call.method, args: call.params as Json[] },
      'xmlrpc',
    );
    return {
      status: 200,
      body: encodeMethodResponse(outcome.result),
      headers: XML_HEADERS,
      drop: outcome.drop,
    };
  } catch (error) {
    return { status: 200, body: fault(error, dispatcher), headers: XML_HEADERS };
  }
}
