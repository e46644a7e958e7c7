import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider } from "wagmi";
import { wagmiConfig } from "./chain/wagmi";
import { configureClient } from "./api/client";
import { session } from "./auth/session";
import { i18next, initI18n } from "./i18n";
import { App } from "./App";
import "./styles.css";

configureClient({ language: () => i18next.language || "en", token: () => session()?.token ?? null });

const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } },
});

void initI18n().then(() => {
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <WagmiProvider config={wagmiConfig}>
        <QueryClientProvider client={queryClient}>
          <App />
        </QueryClientProvider>
      </WagmiProvider>
    </StrictMode>,
  );
});
