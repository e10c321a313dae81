"""Field extraction sources, each a pure module (text in, values out).

``css`` (BeautifulSoup selectors, text in pieces), ``jsonld`` (extruct), ``scriptjson`` (a JSON ``<script>``),
``jsobject`` (JavaScript object literals and Next.js flight data, chompjs), ``jsonapi`` (JSON documents and
JMESPath), ``urls`` (srcset, picture, background images, lazy attributes, rewrites), ``facts`` (price, year,
km, fuel, transmission, city); ``extract`` applies a profile's rules through them.
"""
