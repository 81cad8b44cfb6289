// The SCF suite: GetFunctionLogs, GetFunction, ListFunctions and
// GetRequestStatus through the official client, by POST and GET with the
// TC3-HMAC-SHA256 signature and by GET with the older HmacSHA256, plus two
// calls that must fail (a wrong key; a missing function, in Chinese).
"use strict";

const { scf } = require("tencentcloud-sdk-nodejs/tencentcloud/services/scf");

module.exports = async function (ctx) {
  const [fn, requestId] = ctx.args;
  const Client = scf.v20180416.Client;
  const out = {};
  const styles = {
    POST: {},
    GET: { httpProfile: { reqMethod: "GET" } },
    HmacSHA256: { signMethod: "HmacSHA256", httpProfile: { reqMethod: "GET" } },
  };
  for (const [style, profile] of Object.entries(styles)) {
    const client = new Client(ctx.clientConfig("scf", profile));
    out[style] = {
      GetFunctionLogs: await client.GetFunctionLogs({
        FunctionName: fn,
        Limit: 3,
        Order: "asc",
        Filter: { RetCode: "not0" },
      }),
      GetFunction: await client.GetFunction({ FunctionName: fn }),
      ListFunctions: await client.ListFunctions({ SearchKey: fn, Limit: 1 }),
      GetRequestStatus: await client.GetRequestStatus({ FunctionName: fn, FunctionRequestId: requestId }),
    };
  }
  const wrongKey = new Client(ctx.clientConfig("scf", {}, { secretKey: "not-the-key" }));
  out.wrongKey = await ctx.failure(wrongKey.GetFunction({ FunctionName: fn }));
  const chinese = new Client(ctx.clientConfig("scf", { language: "zh-CN" }));
  out.chinese = await ctx.failure(chinese.GetFunction({ FunctionName: "no-such-function" }));
  return out;
};
