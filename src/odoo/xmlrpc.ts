import { classifyOdooError, OdooError } from './errors.js';
import { exchange, httpStatusError } from './http.js';
import { ServiceCallTransport } from './transport.js';
import { decodeMethodResponse, encodeMethodCall, type XmlRpcFault } from './xmlrpc-codec.js';

/**
 * `POST /xmlrpc/2/common` and `/xmlrpc/2/object` (Odoo 8 to 21).
 *
 * Why not odoo-xmlrpc-ts's OdooClient itself: its methodCall turns a fault into
 * `new Error(String(error))`, so faultCode and faultString are lost and errors cannot be
 * classified; it has no per-call timeout and no way to pass our fetch (it uses the xmlrpc
 * package's http client); its authenticate() turns every failure, a network error included,
 * into OdooAuthenticationError, which would halt the client for a passing outage; and it keeps
 * one uid and password of its own while this interface passes credentials on each call. So we
 * use its lower layer, the `xmlrpc` package's serializer and deserializer (xmlrpc-codec.ts),
 * over fetch with AbortSignal.timeout, like JsonRpcTransport.
 */
export interface XmlRpcOptions {
  url: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** The daemon's stop signal (see exchange()). */
  signal?: AbortSignal | undefined;
}

/** Odoo's /xmlrpc/2 fault codes (addons/rpc/controllers/xmlrpc.py, base/controllers/rpc.py before 19). */
const FAULT_APPLICATION_ERROR = 1;
const FAULT_WARNING = 2; // UserError and its subclasses (ValidationError, MissingError), RedirectWarning
const FAULT_ACCESS_DENIED = 3;
const FAULT_ACCESS_ERROR = 4;

/**
 * The Python class and message of a fault. Codes 2–4 carry only str(e); code 1 carries the
 * formatted traceback, whose last section is "module.Class: message" (builtins unqualified).
 */
export function describeFault(fault: XmlRpcFault): { name: string; message: string } {
  switch (fault.faultCode) {
    case FAULT_ACCESS_DENIED:
      return { name: 'odoo.exceptions.AccessDenied', message: fault.faultString };
    case FAULT_ACCESS_ERROR:
      return { name: 'odoo.exceptions.AccessError', message: fault.faultString };
    case FAULT_WARNING:
      // MissingError and UserError share code 2; only MissingError's text tells it apart.
      // ValidationError cannot be told from UserError on this wire.
      return {
        name: /^Record does not exist or has been deleted\./.test(fault.faultString)
          ? 'odoo.exceptions.MissingError'
          : 'odoo.exceptions.UserError',
        message: fault.faultString,
      };
    case FAULT_APPLICATION_ERROR:
      return lastException(fault.faultString);
    default:
      return { name: 'unknown', message: fault.faultString };
  }
}

/** The final exception of a Python traceback: the unindented lines after the last frame. */
function lastException(traceback: string): { name: string; message: string } {
  const lines = traceback.replace(/\s+$/, '').split('\n');
  let start = lines.length - 1;
  while (start > 0 && !/^\s/.test(lines[start - 1] ?? '') && !/^Traceback /.test(lines[start - 1] ?? '')) {
    start -= 1;
  }
  const section = lines.slice(start).join('\n');
  const match = /^([A-Za-z_][\w.]*)(?::\s?([\s\S]*))?$/.exec(section);
  if (!match?.[1]) return { name: 'unknown', message: section };
  const shortName = match[1];
  const name = shortName.includes('.') ? shortName : `builtins.${shortName}`;
  let message = (match[2] ?? '').trim();
  // str(KeyError('x')) is the key's repr.
  if (name === 'builtins.KeyError') message = message.replace(/^'(.*)'$/s, '$1');
  return { name, message };
}

export class XmlRpcTransport extends ServiceCallTransport {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: XmlRpcOptions) {
    super();
    this.fetchImpl = options.fetch ?? fetch;
  }

  protected async call(
    service: string,
    method: string,
    params: readonly unknown[],
    timeoutMs = this.options.timeoutMs,
    label = `${service}.${method}`,
  ): Promise<unknown> {
    const endpoint = new URL(`/xmlrpc/2/${service}`, this.options.url).toString();
    const { response, text } = await exchange(
      this.fetchImpl,
      endpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'text/xml', accept: 'text/xml' },
        body: encodeMethodCall(method, params),
      },
      { label, timeoutMs, signal: this.options.signal },
    );
    if (!response.ok) throw httpStatusError(response.status, label, text);
    let decoded: Awaited<ReturnType<typeof decodeMethodResponse>>;
    try {
      decoded = await decodeMethodResponse(text);
    } catch {
      throw new OdooError(
        'protocol',
        `Odoo answered ${label} with something that is not an XML-RPC response: ${text.slice(0, 200)}`,
      );
    }
    if (decoded.ok) return decoded.value;
    const { name, message } = describeFault(decoded.fault);
    throw new OdooError(classifyOdooError(name, message), `Odoo refused ${label}: ${message} (${name})`, {
      odooName: name,
    });
  }
}
