// wagmi: one chain (the deployment's), the injected connector with EIP-6963 discovery (every
// wallet that announces itself is listed), and chain access through the connected wallet (the
// page's Content-Security-Policy allows no other origin).
import { createConfig, injected, unstable_connector } from "wagmi";
import { defineChain } from "viem";
import { config as nest } from "../lib/config";

export const chain = defineChain({
  id: nest.chainId,
  name: nest.chainId === 31337 ? "Nest dev (anvil)" : `Chain ${nest.chainId}`,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: nest.rpcUrl ? [nest.rpcUrl] : [] } },
});

export const wagmiConfig = createConfig({
  chains: [chain],
  connectors: [injected()],
  multiInjectedProviderDiscovery: true,
  transports: { [chain.id]: unstable_connector(injected) },
});

declare module "wagmi" {
  interface Register {
    config: typeof wagmiConfig;
  }
}
