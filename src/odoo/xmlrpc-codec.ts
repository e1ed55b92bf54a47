/**
 * XML-RPC encoding and decoding through the `xmlrpc` package's serializer and deserializer, the
 * layer under odoo-xmlrpc-ts. We load it the way odoo-xmlrpc-ts resolves it (its own dependency),
 * so the version is the one that library was installed with and our package.json needs no entry.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

export interface XmlRpcFault {
  faultCode: number;
  faultString: string;
}

interface XmlRpcSerializer {
  serializeMethodCall(method: string, params: readonly unknown[]): string;
  serializeMethodResponse(value: unknown): string;
  serializeFault(fault: XmlRpcFault): string;
}

/** The deserializer reports a fault as an Error carrying faultCode and faultString. */
type FaultError = Error & { faultCode?: unknown; faultString?: unknown };

interface XmlRpcDeserializer {
  deserializeMethodResponse(
    stream: Readable,
    done: (error: FaultError | null, value?: unknown) => void,
  ): void;
  deserializeMethodCall(
    stream: Readable,
    done: (error: Error | null, method?: string, params?: unknown[]) => void,
  ): void;
}

const requireHere = createRequire(import.meta.url);
const requireFromLibrary = createRequire(requireHere.resolve('odoo-xmlrpc-ts'));
const serializer = requireFromLibrary('xmlrpc/lib/serializer.js') as XmlRpcSerializer;
const Deserializer = requireFromLibrary('xmlrpc/lib/deserializer.js') as new (
  encoding?: string,
) => XmlRpcDeserializer;

export function encodeMethodCall(method: string, params: readonly unknown[]): string {
  return serializer.serializeMethodCall(method, params);
}

export function encodeMethodResponse(value: unknown): string {
  return serializer.serializeMethodResponse(value);
}

export function encodeFault(fault: XmlRpcFault): string {
  return serializer.serializeFault(fault);
}

export type DecodedResponse = { ok: true; value: unknown } | { ok: false; fault: XmlRpcFault };

/** A methodResponse: its value or its fault; a body that is not XML-RPC rejects. */
export function decodeMethodResponse(xml: string): Promise<DecodedResponse> {
  return new Promise((resolve, reject) => {
    new Deserializer('utf8').deserializeMethodResponse(Readable.from([xml]), (error, value) => {
      if (!error) return resolve({ ok: true, value });
      if (error.faultCode !== undefined || error.faultString !== undefined) {
        return resolve({
          ok: false,
          fault: {
            faultCode: typeof error.faultCode === 'number' ? error.faultCode : Number(error.faultCode),
            faultString:
              typeof error.faultString === 'string' ? error.faultString : String(error.faultString),
          },
        });
      }
      reject(error);
    });
  });
}

export function decodeMethodCall(xml: string): Promise<{ method: string; params: unknown[] }> {
  return new Promise((resolve, reject) => {
    new Deserializer('utf8').deserializeMethodCall(Readable.from([xml]), (error, method, params) => {
      if (error || method === undefined) return reject(error ?? new Error('no method name'));
      resolve({ method, params: params ?? [] });
    });
  });
}
