/* The page language on the client: <html lang> and the date picker's locale.
 *
 * dash 4.x's date picker formats month and weekday names with date-fns and takes the
 * locale from window.dateFns.locale, choosing by the browser's language and falling back
 * to the first entry.  datefns-locale-kk.js and datefns-locale-ru.js (date-fns 4.4.0, MIT,
 * see datefns-LICENSE.md; loaded before this file, assets load in name order) register
 * the Kazakh and Russian locales; here only the page language's locale is left in
 * window.dateFns.locale, so the picker speaks the page's language whatever the browser's.
 */
(function () {
  var all = Object.assign({}, (window.dateFns && window.dateFns.locale) || {});
  // The picker's month list asks for month names in the formatting context ("MMMM"), which
  // in Russian is the genitive ("апреля"); a list of months wants the nominative ("апрель").
  Object.keys(all).forEach(function (code) {
    var locale = all[code], month = locale.localize.month;
    all[code] = Object.assign({}, locale, {localize: Object.assign({}, locale.localize, {
      month: function (n, options) {
        return month(n, Object.assign({}, options, {context: "standalone"}));
      }
    })});
  });
  window.hydroriskDateLocales = all;

  function apply(lang) {
    document.documentElement.lang = lang;
    var chosen = {};
    if (all[lang]) { chosen[lang] = all[lang]; }
    window.dateFns = Object.assign({}, window.dateFns || {}, {locale: chosen});
    return lang;
  }

  var params = new URLSearchParams(window.location.search);
  var first = params.get("lang") || document.documentElement.lang || "en";
  apply(["kk", "ru", "en"].indexOf(first) >= 0 ? first : "en");

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    hydrorisk: {
      setLanguage: function (search, fallback) {
        var lang = new URLSearchParams(search || "").get("lang");
        lang = lang ? lang.trim().toLowerCase() : "";
        if (["kk", "ru", "en"].indexOf(lang) < 0) { lang = fallback || "en"; }
        return apply(lang);
      }
    }
  });
})();
