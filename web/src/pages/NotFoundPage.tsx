import { Link } from "react-router";
import { buttonClass } from "../ui/Button";

export function NotFoundPage() {
  return (
    <main className="mx-auto max-w-md px-4 py-16 text-center">
      <h1 className="text-xl font-semibold text-slate-900">Page not found</h1>
      <p className="mt-2 text-sm text-slate-600">There is no page at this address.</p>
      <Link to="/" className={buttonClass("primary") + " mt-6"}>Go to the dashboard</Link>
    </main>
  );
}
