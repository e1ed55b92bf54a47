/** The payment URL as a QR code PNG, generated locally (never fetched from a QR service). */
import QRCode from 'qrcode';

/** Content-ID of the inline QR image; the HTML refers to it as cid:<QR_CID>. */
export const QR_CID = 'pay-qr@odoo-paylink';

export function paymentQrPng(url: string): Promise<Buffer> {
  // Medium error correction survives a smudged phone screen; 8 px modules scan well at 150 px.
  return QRCode.toBuffer(url, { type: 'png', errorCorrectionLevel: 'M', margin: 2, scale: 8 });
}

export async function paymentQrDataUri(url: string): Promise<string> {
  return `data:image/png;base64,${(await paymentQrPng(url)).toString('base64')}`;
}
