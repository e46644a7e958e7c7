import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError } from "viem";
import { i18next } from "../i18n";
import { ApiError } from "../api/client";

/** A reason a person can read: the api's (already translated) problem, or the wallet's. */
export function reasonOf(error: unknown, rejected: string): string {
  if (error instanceof ApiError) return error.problem.detail || error.problem.title;
  if (error instanceof UserRejectedRequestError) return rejected;
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof UserRejectedRequestError)) return rejected;
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    const name = revert instanceof ContractFunctionRevertedError ? revert.data?.errorName : undefined;
    if (name) {
      const key = `chainError.${name}`;
      return i18next.exists(key) ? i18next.t(key) : i18next.t("chainError.other", { name });
    }
    return error.shortMessage;
  }
  if (error && typeof error === "object" && "code" in error && (error as { code: unknown }).code === 4001) return rejected;
  return error instanceof Error ? error.message : String(error);
}

