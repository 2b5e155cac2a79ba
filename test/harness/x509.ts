import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';

// Just enough DER to write a self-signed RSA certificate, as Google's certs
// endpoint serves certificates rather than bare public keys.

function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest >>= 8) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

const sequence = (...items: Buffer[]): Buffer => der(0x30, ...items);

function oid(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

function positiveInteger(bytes: Buffer): Buffer {
  return der(0x02, (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return der(0x17, Buffer.from(text, 'ascii'));
}

function commonName(name: string): Buffer {
  return sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(name, 'utf8')))));
}

const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));

/** A PEM self-signed certificate for `privateKey` (RSA), valid from `notBefore` to `notAfter`. */
export function selfSignedCertificatePem(options: {
  privateKey: KeyObject;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}): string {
  const spki = createPublicKey(options.privateKey).export({ type: 'spki', format: 'der' });
  const name = commonName(options.commonName);
  const tbs = sequence(
    der(0xa0, positiveInteger(Buffer.from([2]))), // v3
    positiveInteger(randomBytes(8)),
    SHA256_WITH_RSA,
    name,
    sequence(utcTime(options.notBefore), utcTime(options.notAfter)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, options.privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature));
  const lines = certificate.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
