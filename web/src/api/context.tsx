// Makes the app's single KilnApi instance available to components.

import { createContext, useContext, type ReactNode } from "react";
import type { KilnApi } from "./endpoints";

const ApiContext = createContext<KilnApi | null>(null);

export function ApiProvider({ api, children }: { api: KilnApi; children: ReactNode }) {
  return <ApiContext.Provider value={api}>{children}</ApiContext.Provider>;
}

export function useApi(): KilnApi {
  const api = useContext(ApiContext);
  if (api === null) throw new Error("useApi needs an <ApiProvider> above it");
  return api;
}
