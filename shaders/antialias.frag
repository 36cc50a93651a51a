#version 330
// Edge-directed anti-aliasing after FXAA: where the luma of the 4 neighbours shows an
// edge, blend along the edge (across the staircase), in proportion to its contrast.
// texelFetch only: filtered sampling and MSAA are several times slower on llvmpipe.
uniform sampler2D u_image;
out vec4 f_color;

float luma(vec3 c) { return dot(c, vec3(0.299, 0.587, 0.114)); }

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec3 m = texelFetch(u_image, p, 0).rgb;
    vec3 n = texelFetch(u_image, p + ivec2(0, 1), 0).rgb;
    vec3 s = texelFetch(u_image, p - ivec2(0, 1), 0).rgb;
    vec3 e = texelFetch(u_image, p + ivec2(1, 0), 0).rgb;
    vec3 w = texelFetch(u_image, p - ivec2(1, 0), 0).rgb;
    float lm = luma(m), ln = luma(n), ls = luma(s), le = luma(e), lw = luma(w);
    float lo = min(lm, min(min(ln, ls), min(le, lw)));
    float hi = max(lm, max(max(ln, ls), max(le, lw)));
    float range = hi - lo;
    if (range < max(0.04, hi * 0.1)) {
        f_color = vec4(m, 1.0);
        return;
    }
    // A strong vertical change means a horizontal edge: blend with the left/right pixels.
    float vertical = abs(ln + ls - 2.0 * lm);
    float horizontal = abs(le + lw - 2.0 * lm);
    vec3 along = vertical >= horizontal ? 0.5 * (e + w) : 0.5 * (n + s);
    vec3 across = vertical >= horizontal ? 0.5 * (n + s) : 0.5 * (e + w);
    float amount = clamp(abs(0.25 * (ln + ls + le + lw) - lm) / range, 0.0, 1.0);
    vec3 blended = mix(m, 0.6 * along + 0.4 * across, 0.75 * amount);
    f_color = vec4(blended, 1.0);
}
