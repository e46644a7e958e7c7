import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { WagmiProvider } from "wagmi";
import { wagmiConfig } from "./chain/wagmi";
import { configureClient } from "./api/client";
import { session } from "./auth/session";
import { i18next, initI18n } from "./i18n";
import { App, preloadRoute } from "./App";
import { match } from "./lib/router";
import { endpoints, keys } from "./api/endpoints";
import "./styles.css";

configureClient({ language: () => i18next.language || "en", token: () => session()?.token ?? null });

const queryClient = new QueryClient({
  defaultOptions: { queries: { staleTime: 5_000, retry: 1, refetchOnWindowFocus: false } },
});

// The first page's code and data load alongside the catalogue, not after the first render.
const first = match(location.pathname);
preloadRoute(first.name);
if (first.name === "nft") {
  const { contract, tokenId } = first.params;
  void queryClient.prefetchQuery({ queryKey: keys.nft(contract, tokenId), queryFn: () => endpoints.nft(contract, tokenId) });
}

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
