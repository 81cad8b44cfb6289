// Drives the simulator with Tencent's official Node.js SDK and prints, as
// JSON, the answers the SDK returned; nodesdk_test.go in internal/tencentsim
// runs it and checks them against the simulator's ground truth.
//
// Usage: TENCENTSIM_ENDPOINT=127.0.0.1:PORT TENCENTSIM_SECRET_ID=... TENCENTSIM_SECRET_KEY=... \
//   node harness.js SUITES ARGS...
// SUITES is a comma-separated list of suites below; each gets ARGS as
// ctx.args ("scf": FUNCTION REQUEST_ID; "cls": FUNCTION FROM_MS TO_MS
// LIMIT).
//
// The SDK derives the signing service from the endpoint's first label
// ("scf.tencentcloudapi.com" -> "scf"), so it is given Tencent's real host
// names with the simulator's port ("scf.tencentcloudapi.com:PORT",
// "cls.tencentcloudapi.com:PORT"), and an HTTP agent that resolves every
// name to the simulator's loopback address: nothing leaves the machine.
//
// Adding a service: write a module exporting
//   async function (ctx) -> any JSON
// that builds its clients with ctx.clientConfig(SERVICE), list it in
// `suites` below, and have the Go test pass its name.
"use strict";

const http = require("http");

const suites = {
  scf: require("./scf.js"),
  cls: require("./cls.js"),
};

function loopbackAgent(address) {
  // Node may ask for all addresses (autoSelectFamily) or for one.
  const lookup = (hostname, options, callback) => {
    if (options && options.all) {
      callback(null, [{ address, family: 4 }]);
    } else {
      callback(null, address, 4);
    }
  };
  return new http.Agent({ keepAlive: false, lookup });
}

function context(args) {
  const [address, port] = process.env.TENCENTSIM_ENDPOINT.split(":");
  const agent = loopbackAgent(address);
  return {
    args,
    // clientConfig is an SDK client's configuration for service, with
    // profile fields overridden by extra (signMethod, language, ...).
    clientConfig(service, extra = {}, credential = {}) {
      const { httpProfile = {}, ...profile } = extra;
      return {
        credential: {
          secretId: process.env.TENCENTSIM_SECRET_ID,
          secretKey: process.env.TENCENTSIM_SECRET_KEY,
          ...credential,
        },
        region: "ap-guangzhou",
        profile: {
          ...profile,
          httpProfile: {
            endpoint: `${service}.tencentcloudapi.com:${port}`,
            protocol: "http://",
            reqTimeout: 30,
            agent,
            ...httpProfile,
          },
        },
      };
    },
  };
}

// failure records an SDK error as {code, message}; anything else rethrows.
async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    if (e && e.code) {
      return { code: e.code, message: e.message };
    }
    throw e;
  }
  return null;
}

async function main() {
  const [names, ...args] = process.argv.slice(2);
  const ctx = context(args);
  ctx.failure = failure;
  const out = {};
  for (const name of names.split(",")) {
    if (!suites[name]) {
      throw new Error(`no suite ${name}`);
    }
    out[name] = await suites[name](ctx);
  }
  process.stdout.write(JSON.stringify(out, (k, v) => (typeof v === "bigint" ? Number(v) : v), 2) + "\n");
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
