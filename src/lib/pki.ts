/**
 * TLS material for engines and clusters: a CA, server certificates (SANs with IP addresses and
 * DNS names), client certificates, certificate requests and their signing, and inspection.
 *
 * Built on @peculiar/x509 over node:crypto's WebCrypto: a maintained, typed X.509 library that
 * handles ECDSA and RSA keys, extensions and CSRs, while node:crypto does the key generation and
 * signing natively (node-forge would sign RSA in JavaScript and has no ECDSA certificates).
 * Keys are ECDSA P-256 by default (fast to make, accepted by Go's crypto/tls and OpenSSL);
 * RSA 2048 is available for peers that need it. Keys are written as PKCS#8 PEM
 * ("PRIVATE KEY"), certificates as PEM.
 *
 * The library and its reflect polyfill load on the first certificate made, not on import.
 */
import type * as X509 from '@peculiar/x509'
import { webcrypto, X509Certificate, randomBytes, createPrivateKey } from 'node:crypto'
import { isIP } from 'node:net'
import type { webcrypto as WebCrypto } from 'node:crypto'
import { EngineError } from './errors.js'

let x509: typeof X509

/**
 * The library loads on first use, by a computed name so the CLI bundle leaves it to node's
 * resolution (commands that make no certificate do not pay for it).
 */
async function lib(): Promise<typeof X509> {
  if (!x509) {
    const reflect = 'reflect-metadata'
    const name = '@peculiar/x509'
    await import(reflect)
    const m = (await import(name)) as typeof X509 & { default?: typeof X509 }
    x509 = m.X509CertificateGenerator ? m : m.default!
    x509.cryptoProvider.set(webcrypto as never)
  }
  return x509
}

export type KeyAlgorithm = 'ecdsa-p256' | 'rsa-2048'

/** A certificate with its private key, both PEM. */
export interface CertKeyPem {
  certPem: string
  keyPem: string
}

/** A distinguished name: the common fields. */
export interface Subject {
  commonName: string
  organization?: string
  organizationalUnit?: string
}

export interface IssueOptions {
  subject: Subject
  /** Subject alternative names: each entry an IP address (v4 or v6) or a DNS name. */
  altNames?: string[]
  /** Extended key usages: server (TLS Web Server), client (TLS Web Client), or both. */
  usages: Array<'server' | 'client'>
  /** Validity in days from now (a minute back-dated for clock skew). Default 1095 (3 years). */
  validDays?: number
  keyAlgorithm?: KeyAlgorithm
}

const DEFAULT_DAYS = 1095

function algorithmOf(kind: KeyAlgorithm): WebCrypto.RsaHashedKeyGenParams | (WebCrypto.EcKeyGenParams & { hash: string }) {
  return kind === 'rsa-2048'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
}

async function generateKeys(kind: KeyAlgorithm): Promise<WebCrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmOf(kind) as never, true, ['sign', 'verify'])) as unknown as WebCrypto.CryptoKeyPair
}

function nameOf(s: Subject): string {
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1')
  const parts = [`CN=${esc(s.commonName)}`]
  if (s.organizationalUnit) parts.push(`OU=${esc(s.organizationalUnit)}`)
  if (s.organization) parts.push(`O=${esc(s.organization)}`)
  return parts.join(', ')
}

function serial(): string {
  const b = randomBytes(16)
  b[0] = b[0]! & 0x7f // positive
  return b.toString('hex')
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now()
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * 86_400_000) }
}

async function exportKeyPem(key: WebCrypto.CryptoKey): Promise<string> {
  await lib()
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as never))
  return x509.PemConverter.encode(der, 'PRIVATE KEY') + '\n'
}

/** Import a PEM private key (PKCS#8, or PKCS#1 / SEC1 as OpenSSL writes them). */
async function importKeyPem(pem: string): Promise<{ key: WebCrypto.CryptoKey; alg: KeyAlgorithm }> {
  let ko
  try {
    ko = createPrivateKey(pem)
  } catch (err) {
    throw new EngineError('InvalidArgument', 'ERR_PKI_BAD_KEY', `invalid private key: ${(err as Error).message}`)
  }
  const der = ko.export({ format: 'der', type: 'pkcs8' })
  const alg: KeyAlgorithm = ko.asymmetricKeyType === 'rsa' ? 'rsa-2048' : 'ecdsa-p256'
  if (ko.asymmetricKeyType === 'ec' && ko.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new EngineError('InvalidArgument', 'ERR_PKI_BAD_KEY', `unsupported EC curve ${ko.asymmetricKeyDetails?.namedCurve}: use P-256`)
  }
  if (ko.asymmetricKeyType !== 'rsa' && ko.asymmetricKeyType !== 'ec') {
    throw new EngineError('InvalidArgument', 'ERR_PKI_BAD_KEY', `unsupported key type ${ko.asymmetricKeyType}`)
  }
  const algo = algorithmOf(alg)
  const key = (await webcrypto.subtle.importKey('pkcs8', der, algo as never, true, ['sign'])) as unknown as WebCrypto.CryptoKey
  return { key, alg }
}

function altNameEntries(names: string[]): X509.JsonGeneralName[] {
  const out: X509.JsonGeneralName[] = []
  const seen = new Set<string>()
  for (const raw of names) {
    const n = raw.trim()
    if (!n || seen.has(n)) continue
    seen.add(n)
    out.push(isIP(n) ? { type: 'ip', value: n } : { type: 'dns', value: n })
  }
  return out
}

/** Make a self-signed CA (basic constraints CA:true, key usage cert sign + CRL sign). */
export async function createCA(subject: Subject, opts: { validDays?: number; keyAlgorithm?: KeyAlgorithm } = {}): Promise<CertKeyPem> {
  await lib()
  const alg = opts.keyAlgorithm ?? 'ecdsa-p256'
  const keys = await generateKeys(alg)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: nameOf(subject),
    ...validity(opts.validDays ?? DEFAULT_DAYS),
    signingAlgorithm: algorithmOf(alg) as never,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) }
}

async function issueFor(ca: CertKeyPem, publicKey: WebCrypto.CryptoKey | X509.PublicKey, opts: Omit<IssueOptions, 'keyAlgorithm'>): Promise<string> {
  await lib()
  const caCert = new x509.X509Certificate(ca.certPem)
  const { key: caKey, alg: caAlg } = await importKeyPem(ca.keyPem)
  const usages = opts.usages.map((u) => (u === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth))
  const exts: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(usages, false),
    await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
  ]
  const alt = altNameEntries(opts.altNames ?? [])
  if (alt.length) exts.push(new x509.SubjectAlternativeNameExtension(alt, false))
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: nameOf(opts.subject),
    issuer: caCert.subject,
    ...validity(opts.validDays ?? DEFAULT_DAYS),
    signingAlgorithm: algorithmOf(caAlg) as never,
    publicKey: publicKey as never,
    signingKey: caKey as never,
    extensions: exts,
  })
  return cert.toString('pem') + '\n'
}

/** Issue a certificate and a fresh key signed by the CA. */
export async function issueCertificate(ca: CertKeyPem, opts: IssueOptions): Promise<CertKeyPem> {
  if (!opts.usages.length) throw new EngineError('InvalidArgument', 'ERR_PKI_NO_USAGE', 'a certificate needs at least one usage')
  const keys = await generateKeys(opts.keyAlgorithm ?? 'ecdsa-p256')
  const certPem = await issueFor(ca, keys.publicKey, opts)
  return { certPem, keyPem: await exportKeyPem(keys.privateKey) }
}

/** A server certificate for an engine: SANs hold each IP and name given (plus localhost). */
export function createServerCert(ca: CertKeyPem, opts: { commonName: string; altNames: string[]; organization?: string; validDays?: number; keyAlgorithm?: KeyAlgorithm }): Promise<CertKeyPem> {
  return issueCertificate(ca, {
    subject: { commonName: opts.commonName, ...(opts.organization ? { organization: opts.organization } : {}) },
    altNames: [...opts.altNames, 'localhost', '127.0.0.1'],
    usages: ['server'],
    ...(opts.validDays ? { validDays: opts.validDays } : {}),
    ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
  })
}

/** A client certificate (TLS Web Client Authentication). */
export function createClientCert(ca: CertKeyPem, opts: { commonName: string; organization?: string; validDays?: number; keyAlgorithm?: KeyAlgorithm }): Promise<CertKeyPem> {
  return issueCertificate(ca, {
    subject: { commonName: opts.commonName, ...(opts.organization ? { organization: opts.organization } : {}) },
    usages: ['client'],
    ...(opts.validDays ? { validDays: opts.validDays } : {}),
    ...(opts.keyAlgorithm ? { keyAlgorithm: opts.keyAlgorithm } : {}),
  })
}

/** A certificate signing request and its new key (a node asks a CA to sign it). */
export async function createCsr(subject: Subject, opts: { altNames?: string[]; keyAlgorithm?: KeyAlgorithm } = {}): Promise<{ csrPem: string; keyPem: string }> {
  await lib()
  const alg = opts.keyAlgorithm ?? 'ecdsa-p256'
  const keys = await generateKeys(alg)
  const alt = altNameEntries(opts.altNames ?? [])
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: nameOf(subject),
    keys,
    signingAlgorithm: algorithmOf(alg) as never,
    extensions: alt.length ? [new x509.SubjectAlternativeNameExtension(alt, false)] : [],
  })
  return { csrPem: csr.toString('pem') + '\n', keyPem: await exportKeyPem(keys.privateKey) }
}

/**
 * Sign a CSR with the CA. The CSR's own signature is checked; the subject and SANs are the
 * caller's (a CA decides what a node is called, as swarm does), the CSR gives only the key.
 */
export async function signCsr(ca: CertKeyPem, csrPem: string, opts: Omit<IssueOptions, 'keyAlgorithm'>): Promise<string> {
  await lib()
  let csr: X509.Pkcs10CertificateRequest
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem)
  } catch (err) {
    throw new EngineError('InvalidArgument', 'ERR_PKI_BAD_CSR', `invalid certificate request: ${(err as Error).message}`)
  }
  if (!(await csr.verify())) throw new EngineError('InvalidArgument', 'ERR_PKI_BAD_CSR', 'certificate request signature does not verify')
  return issueFor(ca, csr.publicKey, opts)
}

/** What a certificate says, as tests and `inspect` commands need it. */
export interface CertificateInfo {
  subject: string
  issuer: string
  serialNumber: string
  notBefore: Date
  notAfter: Date
  isCA: boolean
  dnsNames: string[]
  ipAddresses: string[]
  /** SHA-256 fingerprint, colon-separated hex as OpenSSL prints it. */
  fingerprint256: string
}

export function certificateInfo(certPem: string): CertificateInfo {
  const c = new X509Certificate(certPem)
  const dns: string[] = []
  const ips: string[] = []
  for (const part of (c.subjectAltName ?? '').split(/,\s*/)) {
    if (part.startsWith('DNS:')) dns.push(part.slice(4))
    else if (part.startsWith('IP Address:')) ips.push(part.slice(11))
  }
  return {
    subject: c.subject,
    issuer: c.issuer,
    serialNumber: c.serialNumber,
    notBefore: new Date(c.validFrom),
    notAfter: new Date(c.validTo),
    isCA: c.ca,
    dnsNames: dns,
    ipAddresses: ips,
    fingerprint256: c.fingerprint256,
  }
}

/** True when certPem was signed by the CA in caPem and is within its validity now. */
export function verifyIssuedBy(certPem: string, caPem: string, at = new Date()): boolean {
  const c = new X509Certificate(certPem)
  const ca = new X509Certificate(caPem)
  if (!c.checkIssued(ca) || !c.verify(ca.publicKey)) return false
  return new Date(c.validFrom) <= at && at <= new Date(c.validTo)
}

/** True when the private key in keyPem belongs to the certificate. */
export function keyMatchesCertificate(certPem: string, keyPem: string): boolean {
  return new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))
}
