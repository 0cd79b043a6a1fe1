// The sign-in page. Errors the API ties to a field are shown under that field; a 429 says how
// long to wait and keeps the button disabled until then.

import { useEffect, useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { isApiError } from "../api/client";
import { safeNext } from "../auth/RequireAuth";
import { useSession } from "../auth/session";
import { formatWait } from "../lib/format";
import { formErrorsFrom, kNoErrors, type FormErrors } from "../lib/forms";
import { Button } from "../ui/Button";
import { FormError, TextField } from "../ui/Field";
import { Logo } from "../layout/Logo";

const kFields = ["email", "password"] as const;

export function SignInPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const expired = params.get("reason") === "expired";

  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<FormErrors>(kNoErrors);
  const [wait_until, setWaitUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (wait_until === null) return;
    const timer = window.setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= wait_until) setWaitUntil(null);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [wait_until]);

  if (session.phase === "signed_in") return <Navigate to={next} replace />;

  const seconds_left = wait_until === null ? 0 : Math.max(0, Math.ceil((wait_until - now) / 1000));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (email.trim() === "") fields.email = "Enter your email address.";
    if (password === "") fields.password = "Enter your password.";
    if (Object.keys(fields).length > 0) {
      setErrors({ fields });
      return;
    }
    setBusy(true);
    setErrors(kNoErrors);
    try {
      await session.signIn(email.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      if (isApiError(err) && (err.status === 429 || err.code === "rate_limited")) {
        const wait = err.retryAfterSeconds ?? 60;
        setNow(Date.now());
        setWaitUntil(Date.now() + wait * 1000);
        setErrors({ fields: {}, form: `Too many sign-in attempts. Try again in ${formatWait(wait)}.` });
      } else {
        setErrors(formErrorsFrom(err, kFields));
      }
      setPassword("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="flex min-h-full items-center justify-center px-4 py-12">
      <div className="w-full max-w-sm">
        <div className="mb-8 flex flex-col items-center gap-3">
          <Logo large />
          <h1 className="text-xl font-semibold text-slate-900">Sign in to Kiln</h1>
        </div>
        {expired && (
          <p role="status" className="mb-4 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            Your session has expired. Sign in again to continue where you were.
          </p>
        )}
        <form onSubmit={submit} noValidate className="space-y-4 rounded-lg bg-white p-6 shadow-sm ring-1 ring-slate-200">
          <FormError message={errors.form} />
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="username"
            autoFocus
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            error={errors.fields.email}
          />
          <TextField
            label="Password"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={errors.fields.password}
          />
          <Button type="submit" variant="primary" className="w-full" busy={busy} disabled={seconds_left > 0}>
            {seconds_left > 0 ? `Try again in ${formatWait(seconds_left)}` : "Sign in"}
          </Button>
        </form>
      </div>
    </main>
  );
}
