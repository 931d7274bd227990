// Dashboard charts (vendored ECharts). Every bar and slice links to the list it counts.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var charts = [];

  function make(id, option, linkOf) {
    var node = document.getElementById(id);
    if (!node) { return; }
    if (option.empty) {
      node.innerHTML = '<p class="text-muted mb-0">暂无数据</p>';
      node.style.height = "auto";
      return;
    }
    var chart = echarts.init(node);
    chart.setOption(option);
    chart.on("click", function (params) {
      var link = linkOf(params);
      if (link) { window.location.href = link; }
    });
    charts.push(chart);
  }

  var grades = data.grades;
  make("chart-grades", {
    empty: grades.values.length === 0,
    tooltip: {}, grid: {left: 50, right: 10, top: 10, bottom: 30},
    xAxis: {type: "category", data: grades.labels}, yAxis: {type: "value"},
    series: [{type: "bar", data: grades.values, cursor: "pointer"}]
  }, function (p) { return grades.links[p.dataIndex]; });

  var months = data.months;
  make("chart-months", {
    empty: months.series.length === 0,
    tooltip: {trigger: "axis"}, legend: {top: 0}, grid: {left: 40, right: 10, top: 40, bottom: 30},
    xAxis: {type: "category", data: months.labels}, yAxis: {type: "value", minInterval: 1},
    series: months.series.map(function (s) { return {name: s.name, type: "bar", stack: "all", data: s.data}; })
  }, function (p) { return months.series[p.seriesIndex].link; });

  [["chart-verdicts", data.verdicts], ["chart-problems", data.problems]].forEach(function (pair) {
    make(pair[0], {
      empty: pair[1].length === 0,
      tooltip: {trigger: "item"},
      series: [{type: "pie", radius: "65%", data: pair[1], label: {formatter: "{b}: {c}"}}]
    }, function (p) { return p.data.link; });
  });

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
