// The CLS suite: SearchLog through the official client on the log topic
// SCF's GetFunction names, the way a Node.js user reads SCF logs today.
// Arguments: FUNCTION FROM_MS TO_MS LIMIT.
//
// One START record per execution that started in [FROM, TO), newest
// first: a raw CQL page, the next page through its Context, and one SQL
// analytics query over the same executions (their Report records, which
// may be written up to the function's timeout after TO). Two calls must
// fail: a CQL syntax error and a wrong key. Values are read through the
// SDK models' field names (Results, LogJson, AnalysisRecords, ...), so a
// misspelt key fails here; the raw answers go to the Go test as well.
"use strict";

const { cls } = require("tencentcloud-sdk-nodejs/tencentcloud/services/cls");
const { scf } = require("tencentcloud-sdk-nodejs/tencentcloud/services/scf");

function requestIds(answer) {
  return answer.Results.map((li) => {
    const id = JSON.parse(li.LogJson).SCF_RequestId;
    if (typeof id !== "string") {
      throw new Error(`no SCF_RequestId in ${li.LogJson}`);
    }
    return id;
  });
}

module.exports = async function (ctx) {
  const [fn, from, to, limit] = ctx.args;
  const From = Number(from);
  const To = Number(to);
  const Limit = Number(limit);
  const fnInfo = await new scf.v20180416.Client(ctx.clientConfig("scf")).GetFunction({ FunctionName: fn });
  const TopicId = fnInfo.ClsTopicId;
  const client = new cls.v20201016.Client(ctx.clientConfig("cls"));

  const page = {
    TopicId,
    From,
    To,
    QueryString: "SCF_Type:Platform AND SCF_Message:START",
    SyntaxRule: 1,
    Sort: "desc",
    Limit,
  };
  const first = await client.SearchLog(page);
  const second = await client.SearchLog({ ...page, Context: first.Context });

  const started = `SCF_StartTime:>=${From} AND SCF_StartTime:<${To}`;
  const stats = await client.SearchLog({
    TopicId,
    From,
    To: To + fnInfo.Timeout * 1000,
    QueryString:
      `${started} AND SCF_Type:Platform AND SCF_Message:Report | select count(*) as total, ` +
      `count_if(SCF_StatusCode=200) as successful, max(SCF_StartTime) as lastRun`,
    UseNewAnalysis: true,
  });
  if (stats.AnalysisRecords.length !== 1) {
    throw new Error(`stats: ${stats.AnalysisRecords.length} rows`);
  }

  const wrongKey = new cls.v20201016.Client(ctx.clientConfig("cls", {}, { secretKey: "not-the-key" }));
  return {
    topicId: TopicId,
    first: { answer: first, requestIds: requestIds(first) },
    second: { answer: second, requestIds: requestIds(second) },
    stats: { answer: stats, row: JSON.parse(stats.AnalysisRecords[0]) },
    syntaxError: await ctx.failure(client.SearchLog({ ...page, QueryString: "SCF_Type:(" })),
    wrongKey: await ctx.failure(wrongKey.SearchLog(page)),
  };
};
