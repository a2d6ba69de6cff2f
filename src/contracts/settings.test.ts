import { describe, expect, it } from 'vitest'
import { DEFAULT_BRAND, brandOf, settingsPatchSchema } from './settings.ts'

describe('brandOf', () => {
  it('keeps each valid stored key and falls back to the default for the rest', () => {
    expect(brandOf({})).toEqual(DEFAULT_BRAND)
    expect(brandOf({ brand: 'blue' })).toEqual(DEFAULT_BRAND)
    expect(brandOf({ brand: { primary_color: '#0f766e', logo_url: 'javascript:x', logo_width: 9999, footer_text: 'Bristol' } })).toEqual({
      ...DEFAULT_BRAND,
      primary_color: '#0f766e',
      footer_text: 'Bristol',
    })
  })
})

describe('settingsPatchSchema', () => {
  it('takes some of brand, and refuses keys it does not know', () => {
    expect(settingsPatchSchema.safeParse({ brand: { primary_color: '#ABCDEF' } }).success).toBe(true)
    expect(settingsPatchSchema.safeParse({ brand: { primary: '#abcdef' } }).success).toBe(false)
    expect(settingsPatchSchema.safeParse({ logo_url: 'https://x.example/l.png' }).success).toBe(false)
  })
})
