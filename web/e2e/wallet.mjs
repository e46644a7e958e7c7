// A test wallet for the browser tests: an EIP-1193 provider injected into the page before its
// scripts run (addInitScript), announced by EIP-6963 like a real extension, whose requests are
// answered in Node (exposeFunction) by a viem local account holding an anvil key. Signing
// (personal_sign for SIWE, eth_signTypedData_v4 for relayed requests) and sending are real.
import { createPublicClient, createWalletClient, defineChain, hexToBigInt, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** The page's inline provider: forwards every request to the Node binding. */
function injected({ name, uuid, address }) {
  const listeners = {};
  const provider = {
    isNestTestWallet: true,
    async request({ method, params }) {
      const reply = await window.__nestWallet(method, params ?? []);
      if (reply && reply.error) {
        const error = new Error(reply.error.message);
        error.code = reply.error.code;
        throw error;
      }
      if (method === "wallet_switchEthereumChain") (listeners.chainChanged ?? []).forEach((l) => l(reply.chainId));
      return reply.result;
    },
    on(event, listener) {
      (listeners[event] ??= []).push(listener);
    },
    removeListener(event, listener) {
      listeners[event] = (listeners[event] ?? []).filter((l) => l !== listener);
    },
  };
  const icon =
    "data:image/svg+xml;base64," +
    btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="#1b7a3d"/></svg>');
  const detail = Object.freeze({ info: { uuid, name, icon, rdns: "dev.nest.testwallet" }, provider });
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
  window.__nestWalletAddress = address;
  // What the extension does when its user picks another network in its own menu.
  window.__nestWalletEmit = (event, value) => (listeners[event] ?? []).forEach((l) => l(value));
}

/** Converts the JSON typed data a dApp sends into what viem's signer takes (uints as bigints). */
export function typedDataFromJson(json) {
  const data = typeof json === "string" ? JSON.parse(json) : json;
  const { EIP712Domain: _domain, ...types } = data.types;
  const convert = (type, value) => {
    if (/^u?int\d*$/.test(type)) return BigInt(value);
    if (type.endsWith("[]")) return value.map((v) => convert(type.slice(0, -2), v));
    if (types[type]) return Object.fromEntries(types[type].map((f) => [f.name, convert(f.type, value[f.name])]));
    return value;
  };
  const domain = { ...data.domain };
  if (domain.chainId !== undefined) domain.chainId = Number(domain.chainId);
  return { domain, types, primaryType: data.primaryType, message: convert(data.primaryType, data.message) };
}

/**
 * Installs a wallet holding `privateKey` in `page` (before navigation). Returns its address and
 * a log of the methods the page called.
 */
export async function installWallet(page, { privateKey, rpcUrl, chainId, name = "Nest Test Wallet" }) {
  const account = privateKeyToAccount(privateKey);
  const chain = defineChain({
    id: chainId,
    name: "anvil",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain, transport: http(rpcUrl) });
  const reader = createPublicClient({ chain, transport: http(rpcUrl) });
  const state = { chainId, calls: [], authorized: false };
  await page.exposeFunction("__nestWallet", async (method, params) => {
    state.calls.push(method);
    try {
      switch (method) {
        case "eth_requestAccounts":
        case "wallet_requestPermissions":
          // Like an extension: accounts are shown once the user approved the site.
          state.authorized = true;
          return { result: method === "eth_requestAccounts" ? [account.address] : [{ parentCapability: "eth_accounts" }] };
        case "eth_accounts":
          return { result: state.authorized ? [account.address] : [] };
        case "eth_chainId":
          return { result: `0x${state.chainId.toString(16)}` };
        case "wallet_switchEthereumChain": {
          const wanted = Number(params[0].chainId);
          if (wanted !== chainId) return { error: { code: 4902, message: "unknown chain" } };
          state.chainId = wanted;
          return { result: null, chainId: params[0].chainId };
        }
        case "wallet_addEthereumChain":
          return { result: null };
        case "wallet_getPermissions":
          return { result: state.authorized ? [{ parentCapability: "eth_accounts" }] : [] };
        case "personal_sign":
          return { result: await account.signMessage({ message: { raw: params[0] } }) };
        case "eth_signTypedData_v4":
          return { result: await account.signTypedData(typedDataFromJson(params[1])) };
        case "eth_sendTransaction": {
          const tx = params[0];
          const hash = await wallet.sendTransaction({
            to: tx.to,
            data: tx.data,
            value: tx.value ? hexToBigInt(tx.value) : undefined,
            gas: tx.gas ? hexToBigInt(tx.gas) : undefined,
          });
          return { result: hash };
        }
        default:
          return { result: await reader.request({ method, params }) };
      }
    } catch (error) {
      return { error: { code: error.code ?? -32603, message: error.shortMessage ?? error.message } };
    }
  });
  await page.addInitScript(injected, { name, uuid: crypto.randomUUID(), address: account.address });
  return { address: account.address, state };
}

/**
 * Moves the wallet to `chainId` as its user would in the extension's own menu: its answers
 * change and the page hears `chainChanged`. Switching back is the page's job (the wallet
 * accepts `wallet_switchEthereumChain` to the stack's chain only).
 */
export async function moveWalletToChain(page, wallet, chainId) {
  wallet.state.chainId = chainId;
  await page.evaluate((hex) => window.__nestWalletEmit("chainChanged", hex), `0x${chainId.toString(16)}`);
}
