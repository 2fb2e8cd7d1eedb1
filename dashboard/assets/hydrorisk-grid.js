/* Cell renderers of the dashboard's dash-ag-grid tables (dashboard.components):
 *   StationLink: the station's name, its id below, a link to /station/<id> that keeps the
 *                page's query (lang, date, asof) and navigates without reloading;
 *   StateBadge:  the status as the coloured badge of the rest of the page, its notes below.
 * and functions their column and export options name (dashAgGridFunctions):
 *   hydroriskCsvCell:      a CSV cell a spreadsheet would read as a formula (= + - @ tab CR
 *                          first) gets a leading ' (as hydro.services.audit.safe_cell does);
 *                          a markdown link cell is written as its text;
 *   hydroriskMarkdownText: a markdown link cell's text (what its filter matches).
 */
(function () {
  var funcs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
  var h = function () { return window.React.createElement.apply(window.React, arguments); };

  funcs.StationLink = function (props) {
    var data = props.data || {};
    var id = data.station_id || "";
    var href = "/station/" + encodeURIComponent(id).replace(/%3A/gi, ":") + window.location.search;
    return h("div", {className: "grid-station"},
      h("a", {
        href: href, className: "station-name",
        onClick: function (e) {
          if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) { return; }
          e.preventDefault();
          window.history.pushState({}, "", href);
          window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
          window.scrollTo(0, 0);
        }
      }, props.value),
      h("div", {className: "station-id"}, id));
  };

  funcs.StateBadge = function (props) {
    var data = props.data || {};
    var parts = [h("span", {key: "b", className: "state-badge state-" + data.state}, props.value)];
    if (data.status_note) {
      parts.push(h("div", {key: "n", className: "cell-note"}, data.status_note));
    }
    return h("div", {className: "grid-state"}, parts);
  };

  var gridFuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});
  var markdownText = function (value) {
    if (typeof value !== "string") { return value; }
    return value.replace(/\[((?:\\.|[^\]\\])*)\]\([^)]*\)/g, function (m, text) {
      return text.replace(/\\(.)/g, "$1");
    });
  };
  gridFuncs.hydroriskMarkdownText = markdownText;
  gridFuncs.hydroriskCsvCell = function (params) {
    var value = params.value;
    var col = params.column && params.column.getColDef ? params.column.getColDef() : {};
    if (col.cellRenderer === "markdown") { value = markdownText(value); }
    if (typeof value === "string" && /^[=+\-@\t\r]/.test(value)) { return "'" + value; }
    return value;
  };
})();
