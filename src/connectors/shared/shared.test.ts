import { describe, expect, it } from 'vitest'
import { eventId, rawEventType } from './delivery.ts'
import { parseJsonLossless } from './json.ts'
import { decodeEntities, isoFromGmt } from './values.ts'

describe('connector helpers', () => {
  it('parses ids above 2^53 as exact strings and keeps other numbers', () => {
    expect(parseJsonLossless('{"id":820982911946154508,"n":10,"p":19.99,"neg":-9007199254740993}')).toEqual({
      id: '820982911946154508',
      n: 10,
      p: 19.99,
      neg: '-9007199254740993',
    })
  })

  it('folds topics into the lower-case type segments the envelope schema allows', () => {
    expect(rawEventType('bigcommerce', 'store/order/statusUpdated')).toBe('raw.bigcommerce.store_order_status_updated')
    expect(rawEventType('shopify', 'customers/data_request')).toBe('raw.shopify.customers_data_request')
    expect(rawEventType('woocommerce', 'action.woocommerce_add_to_cart')).toBe('raw.woocommerce.action_woocommerce_add_to_cart')
    expect(rawEventType('shopify', '')).toBe('raw.shopify.unknown')
  })

  it('derives short deterministic event ids', () => {
    expect(eventId('shopify', 'k')).toBe(eventId('shopify', 'k'))
    expect(eventId('shopify', 'k', 1)).toMatch(/^shopify_[0-9a-f]{32}_1$/)
  })

  it('reads WooCommerce GMT times and HTML entities', () => {
    expect(isoFromGmt('2017-03-22T19:28:08')).toBe('2017-03-22T19:28:08.000Z')
    expect(decodeEntities('A &ndash; B &amp; C &#8217; &#x2014; &bogus; &#99999999;')).toBe('A \u2013 B & C \u2019 \u2014 &bogus; &#99999999;')
  })
})
