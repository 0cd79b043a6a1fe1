// The signature verification examples the Webhooks screen shows (docs/api.md "Webhooks",
// decision 0007): `Kiln-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
// signatureRecipes.test.ts runs both against a real signature, so what users copy works.

export const kNodeRecipe = `import crypto from "node:crypto";

// raw_body: the request body as bytes (before any JSON parsing); header: the Kiln-Signature value.
export function verifyKiln(raw_body, header, secret, now_s = Math.floor(Date.now() / 1000)) {
  let t = NaN;
  const v1 = [];
  for (const part of header.split(",")) {
    const [k, v] = part.split("=", 2);
    if (k === "t") t = Number(v);
    if (k === "v1") v1.push(v);
  }
  if (!Number.isFinite(t) || Math.abs(now_s - t) > 300) return false; // a replay
  const expected = crypto.createHmac("sha256", secret).update(\`\${t}.\`).update(raw_body).digest();
  return v1.some((hex) => {
    const got = Buffer.from(hex, "hex");
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}`;

export const kPythonRecipe = `import hashlib, hmac, time

def verify_kiln(raw_body: bytes, header: str, secret: str) -> bool:
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k == "t"), None)
    if t is None or not t.isdigit() or abs(time.time() - int(t)) > 300:
        return False  # missing or a replay
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")`;
