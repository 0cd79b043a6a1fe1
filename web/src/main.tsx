// Entry point: one ApiClient, one QueryClient, then the providers and the router.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient, isApiError } from "./api/client";
import { ApiProvider } from "./api/context";
import { KilnApi } from "./api/endpoints";
import { App } from "./App";
import { SessionProvider } from "./auth/session";
import { ToastProvider } from "./ui/Toast";
import "./index.css";

const api = new KilnApi(new ApiClient());

const query_client = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 15_000,
      // Retry what may pass on a second try (network, 5xx); a 4xx answer will not change.
      retry: (failures, error) =>
        failures < 2 && !(isApiError(error) && error.status >= 400 && error.status < 500),
    },
    mutations: { retry: false },
  },
});

const root = document.getElementById("root");
if (root === null) throw new Error("index.html has no #root element");

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={query_client}>
      <ApiProvider api={api}>
        <ToastProvider>
          <SessionProvider>
            <App />
          </SessionProvider>
        </ToastProvider>
      </ApiProvider>
    </QueryClientProvider>
  </StrictMode>,
);
