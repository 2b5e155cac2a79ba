import { randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

// Google's certs endpoint serves certificates rather than bare public keys;
// node-forge writes them (Node can read X.509 but not make it).

/** A PEM self-signed certificate for `privateKey` (RSA), valid from `notBefore` to `notAfter`. */
export function selfSignedCertificatePem(options: { privateKey: KeyObject; commonName: string; notBefore: Date; notAfter: Date }): string {
  const key = forge.pki.privateKeyFromPem(
    options.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
  ) as forge.pki.rsa.PrivateKey;
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  certificate.serialNumber = `01${randomBytes(8).toString('hex')}`; // positive, as DER integers must be
  certificate.validity.notBefore = options.notBefore;
  certificate.validity.notAfter = options.notAfter;
  const name = [{ name: 'commonName', value: options.commonName }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}
