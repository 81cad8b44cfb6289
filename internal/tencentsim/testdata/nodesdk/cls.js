// The CLS suite: SearchLog and DescribeIndex through the official client,
// on the log topic SCF's GetFunction names, the way a Node.js user reads
// SCF logs. Arguments: FUNCTION FROM_MS TO_MS LIMIT.
//
// One START record per execution of FUNCTION that started in [FROM, TO),
// newest first: a raw CQL page, the next page through its Context; SQL
// stats over the same executions (their report lines, written up to the
// function's timeout after TO) in both answer formats; a plain SELECT
// paged with OFFSET S LIMIT N; a multi-topic raw search (one topic of
// which does not exist); DescribeIndex. Then the calls that must fail: a
// CQL syntax error, LIMIT s, n, and a wrong key.
//
// Every answer is checked strictly against the SDK's own models
// (models.js): the violations go to the Go test with the answers, which
// must find none, and a deliberately wrong answer must give some.
"use strict";

const { cls } = require("tencentcloud-sdk-nodejs/tencentcloud/services/cls");
const { scf } = require("tencentcloud-sdk-nodejs/tencentcloud/services/scf");
const models = require("./models.js");

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
  const clsModels = models.load("cls", "v20201016");
  const violations = {};
  const checked = (name, type, answer) => {
    violations[name] = models.check(clsModels, answer, type, name);
    return answer;
  };

  const fnInfo = await new scf.v20180416.Client(ctx.clientConfig("scf")).GetFunction({ FunctionName: fn });
  const TopicId = fnInfo.ClsTopicId;
  const client = new cls.v20201016.Client(ctx.clientConfig("cls"));
  const search = async (name, req) => checked(name, "SearchLogResponse", await client.SearchLog(req));

  const fnCond = `SCF_FunctionName:"${fn}" AND SCF_Namespace:"default"`;
  const page = {
    TopicId,
    From,
    To,
    QueryString: `${fnCond} AND SCF_Type:Platform AND SCF_Message:START`,
    Sort: "desc",
    Limit,
  };
  const first = await search("first", page);
  const second = await search("second", { ...page, Context: first.Context });

  const started = `SCF_StartTime>=${From} AND SCF_StartTime<${To}`;
  const reports = `${fnCond} AND ${started} AND SCF_Type:Platform AND SCF_Message:"Report RequestId" AND (NOT SCF_Message:"Init Report")`;
  const where = ` WHERE SCF_FunctionName = '${fn}' AND SCF_Message LIKE 'Report RequestId%'`;
  const statsQuery = {
    TopicId,
    From,
    To: To + fnInfo.Timeout * 1000,
    QueryString:
      `${reports} | SELECT count(*) AS total, count_if(SCF_StatusCode = 200) AS successful, ` +
      `avg(SCF_Duration) AS avg_duration, max(SCF_StartTime) AS lastRun` +
      where,
    UseNewAnalysis: true,
  };
  const stats = await search("stats", statsQuery);
  const oldStats = await search("oldStats", { ...statsQuery, UseNewAnalysis: false });
  const rows = await search("rows", {
    ...statsQuery,
    QueryString: `${reports} | SELECT SCF_RequestId, SCF_StartTime${where} ORDER BY SCF_StartTime DESC, SCF_RequestId DESC OFFSET ${Limit} LIMIT ${Limit}`,
  });
  const multi = await search("multi", {
    Topics: [{ TopicId }, { TopicId: "00000000-0000-4000-8000-000000000000" }],
    From,
    To,
    QueryString: page.QueryString,
    Sort: "desc",
    Limit,
  });
  const index = checked("index", "DescribeIndexResponse", await client.DescribeIndex({ TopicId }));

  // The checker must be able to fail: an unknown field, a wrong type, a
  // null the model does not allow, a missing required field.
  const selfCheck = models.check(
    clsModels,
    { ...first, Bogus: 1, ListOver: "no", Context: null, Results: [{ ...first.Results[0], Time: "now" }] },
    "SearchLogResponse",
    "selfCheck",
  ).concat(models.check(clsModels, { Rule: { KeyValue: { KeyValues: [] } } }, "DescribeIndexResponse", "selfCheck"));

  const wrongKey = new cls.v20201016.Client(ctx.clientConfig("cls", {}, { secretKey: "not-the-key" }));
  return {
    topicId: TopicId,
    first: { answer: first, requestIds: requestIds(first) },
    second: { answer: second, requestIds: requestIds(second) },
    stats: { answer: stats, row: JSON.parse(stats.AnalysisRecords[0]) },
    oldStats: { answer: oldStats },
    rows: { answer: rows, rows: rows.AnalysisRecords.map((r) => JSON.parse(r)) },
    multi: { answer: multi, requestIds: requestIds(multi) },
    index,
    violations,
    selfCheck,
    syntaxError: await ctx.failure(client.SearchLog({ ...page, QueryString: "SCF_Type:(" })),
    limitComma: await ctx.failure(
      client.SearchLog({ ...statsQuery, QueryString: `${reports} | SELECT SCF_RequestId${where} LIMIT 10, 5` }),
    ),
    wrongKey: await ctx.failure(wrongKey.SearchLog(page)),
  };
};
