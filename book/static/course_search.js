/* Search excerpts for a book opened from files (course_tools/book.py, write_search_pages).
 *
 * Sphinx's search shows an excerpt of each page it finds by fetching that page. A browser does not let
 * a page opened from a file fetch another file, so without a server the excerpts stayed empty. This
 * script, loaded by the search page only, answers those requests from COURSE_SEARCH_PAGES (every
 * page's main text, written at build time). Served over HTTP, the book fetches its pages as usual.
 */
(function () {
  "use strict";
  const pages = window.COURSE_SEARCH_PAGES;
  if (window.location.protocol !== "file:" || !pages) {
    return;
  }
  const root = new URL(document.documentElement.dataset.content_root || "./", window.location.href);
  const rootPath = decodeURIComponent(root.pathname);
  const fetchFromFiles = window.fetch.bind(window);
  window.fetch = function (resource, options) {
    const url = new URL(typeof resource === "string" ? resource : resource.url, window.location.href);
    const path = decodeURIComponent(url.pathname);
    const page = path.startsWith(rootPath) ? path.slice(rootPath.length) : null;
    if (url.protocol === "file:" && page !== null && Object.prototype.hasOwnProperty.call(pages, page)) {
      return Promise.resolve(new Response(pages[page], {headers: {"Content-Type": "text/html; charset=utf-8"}}));
    }
    return fetchFromFiles(resource, options);
  };
})();
