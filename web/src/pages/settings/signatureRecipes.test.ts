import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { kNodeRecipe, kPythonRecipe } from "./signatureRecipes";

// What Kiln sends (src/kiln/webhooks/): v1 = hex HMAC-SHA256(secret, "<t>.<raw body>").
const kSecret = "whsec_3q2-7wEXAMPLEsecretUsedAsGiven";
const kBody = Buffer.from('{"id":"ping_1","type":"ping","data":{"webhook_id":1,"name":"Zoë"}}', "utf8");

function header(t: number, body: Buffer = kBody, secret = kSecret): string {
  return `t=${t},v1=${createHmac("sha256", secret).update(`${t}.`).update(body).digest("hex")}`;
}

const dir = mkdtempSync(path.join(tmpdir(), "kiln-recipe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the Node.js recipe", () => {
  async function load(): Promise<(body: Buffer, header: string, secret: string, now_s?: number) => boolean> {
    const file = path.join(dir, "verify.mjs");
    writeFileSync(file, kNodeRecipe);
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { verifyKiln: (b: Buffer, h: string, s: string, n?: number) => boolean };
    return mod.verifyKiln;
  }

  it("accepts Kiln's signature and refuses a changed body, another secret and a replay", async () => {
    const verify = await load();
    const now = 1_763_791_200;
    expect(verify(kBody, header(now), kSecret, now)).toBe(true);
    // Several v1 entries (a secret being rotated): one match is enough.
    expect(verify(kBody, `t=${now},v1=${"0".repeat(64)},${header(now).split(",")[1]}`, kSecret, now + 10)).toBe(true);
    expect(verify(Buffer.from(kBody.toString("utf8").replace("ping_1", "ping_2")), header(now), kSecret, now)).toBe(false);
    expect(verify(kBody, header(now, kBody, "whsec_other"), kSecret, now)).toBe(false);
    expect(verify(kBody, header(now), kSecret, now + 301)).toBe(false);
    expect(verify(kBody, "v1=abc", kSecret, now)).toBe(false);
  });
});

function hasPython(): boolean {
  try {
    execFileSync("python3", ["-c", "pass"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("the Python recipe", () => {
  function verify(body: Buffer, h: string): string {
    const program = `${kPythonRecipe}\nimport sys\nprint(verify_kiln(sys.stdin.buffer.read(), sys.argv[1], sys.argv[2]))\n`;
    return execFileSync("python3", ["-c", program, h, kSecret], { input: body, encoding: "utf8" }).trim();
  }

  it.skipIf(!hasPython())("accepts Kiln's signature and refuses a changed body and a replay", () => {
    const now = Math.floor(Date.now() / 1000);
    expect(verify(kBody, header(now))).toBe("True");
    expect(verify(Buffer.concat([kBody, Buffer.from(" ")]), header(now))).toBe("False");
    expect(verify(kBody, header(now - 3600))).toBe("False");
  });
});
