import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { recoverTypedDataAddress, encodeFunctionData, type Address } from "viem";
import { ballotTypes, domain, forwardBody, forwardMessage, forwardTypes, relayStage, voteBody } from "../src/chain/relay";
import { marketplaceAbi } from "../src/chain/abis";
import { siweMessage } from "../src/auth/session";

// anvil's second dev key (public test key).
const account = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const forwarder = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9" as Address;
const market = "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9" as Address;

describe("relay requests", () => {
  it("signs a forward request that recovers to the signer, and posts decimal strings", async () => {
    const data = encodeFunctionData({ abi: marketplaceAbi, functionName: "cancelListing", args: [7n] });
    const m = forwardMessage(account.address, market, data, 3n, 200_000n, 1_000, 600);
    expect(m.deadline).toBe(1_600);
    const d = domain("NestForwarder", 31337, forwarder);
    const signature = await account.signTypedData({ domain: d, types: forwardTypes, primaryType: "ForwardRequest", message: m });
    const recovered = await recoverTypedDataAddress({ domain: d, types: forwardTypes, primaryType: "ForwardRequest", message: m, signature });
    expect(recovered).toBe(account.address);
    const body = forwardBody(m, signature, 31337);
    expect(body).toMatchObject({ kind: "forward", gas: "200000", nonce: "3", deadline: "1600", value: "0", chainId: 31337 });
  });
  it("builds vote bodies and maps job states to lifecycle stages", () => {
    expect(voteBody(account.address, 12n, 1, 0n, "0x00", 31337)).toMatchObject({ kind: "vote", proposalId: "12", support: 1, nonce: "0" });
    expect(ballotTypes.Ballot.map((f) => f.name)).toEqual(["proposalId", "support", "voter", "nonce"]);
    expect(relayStage("queued")).toBe("submitted");
    expect(relayStage("confirmed")).toBe("mined");
    expect(relayStage("expired")).toBe("failed");
  });
});

describe("sign-in message", () => {
  it("is an EIP-4361 message for this origin with the nonce and chain", () => {
    Object.assign(globalThis, { location: { host: "localhost:8080", origin: "http://localhost:8080" } });
    const text = siweMessage(account.address.toLowerCase() as Address, 31337, "abc123def456ghi7", new Date("2026-01-01T00:00:00Z"));
    expect(text.split("\n")[0]).toBe("localhost:8080 wants you to sign in with your Ethereum account:");
    expect(text).toContain(account.address); // checksummed
    expect(text).toContain("URI: http://localhost:8080");
    expect(text).toContain("Chain ID: 31337");
    expect(text).toContain("Nonce: abc123def456ghi7");
    expect(text).toContain("Expiration Time: 2026-01-01T00:10:00.000Z");
  });
});

// @ts-expect-error: the browser tests' plain ES module
import { typedDataFromJson } from "../e2e/wallet.mjs";
import { getTypesForEIP712Domain, serializeTypedData } from "viem";

describe("the test wallet", () => {
  it("signs eth_signTypedData_v4 JSON (uints as strings) exactly as the typed data itself", async () => {
    const message = forwardMessage(account.address, market, "0x1234", 5n, 100_000n, 2_000, 60);
    const d = domain("NestForwarder", 31337, forwarder);
    // As viem sends it to an injected wallet: the domain's own type included.
    const types = { EIP712Domain: getTypesForEIP712Domain({ domain: d }), ...forwardTypes };
    const json = serializeTypedData({ domain: d, types, primaryType: "ForwardRequest", message } as never);
    const direct = await account.signTypedData({ domain: d, types: forwardTypes, primaryType: "ForwardRequest", message });
    expect(await account.signTypedData(typedDataFromJson(json))).toBe(direct);
  });
});
