"""The quarterly bulletin (季度通报): one data function (``data``), then its renderers.

``data.bulletin_data`` freezes everything the bulletin shows into plain JSON-ready data;
``html`` renders the web preview and the document WeasyPrint prints (``pdf``), ``xlsx`` the
Excel workbook, ``charts`` the SVG charts both the page and the PDF embed.
"""
