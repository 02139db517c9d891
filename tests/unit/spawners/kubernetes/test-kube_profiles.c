/* spawners/kubernetes/kube_profiles.c: KubeSpawner's profile_list. The expected forms were
 * rendered by Jinja2 from KubeSpawner's own kubespawner/templates/form.html (with its
 * _get_initialized_profile_list and python-slugify), and the other vectors follow
 * tests/test_spawner.py and tests/test_profile.py. */
#include "test.h"
#include "spawners/kubernetes/kube.h"

#include <stdio.h>
#include <stdlib.h>

/* tests/test_spawner.py's _test_profiles_dict, with a description, a second option, a
 * profile-level override under options, {value} in keys and a profile open to groups only. */
static const char profiles[] =
    "{\n"
    "  \"training-python\": {\n"
    "    \"display_name\": \"Training Env - Python\",\n"
    "    \"slug\": \"training-python\",\n"
    "    \"default\": true,\n"
    "    \"description\": \"A small Python server\",\n"
    "    \"kubespawner_override\": {\"image\": \"training/python:label\", \"cpu_limit\": 1, "
    "\"mem_limit\": 536870912,\n"
    "                             \"environment\": {\"override\": \"override-value\"}}\n"
    "  },\n"
    "  \"training-r\": {\n"
    "    \"display_name\": \"Training Env - R\",\n"
    "    \"slug\": \"training-r\",\n"
    "    \"kubespawner_override\": {\"image\": \"training/r:label\", \"cpu_limit\": 1, "
    "\"mem_limit\": 536870912,\n"
    "                             \"environment\": {\"override\": \"override-value\", "
    "\"to-remove\": null}}\n"
    "  },\n"
    "  \"test-choices\": {\n"
    "    \"display_name\": \"Test choices\",\n"
    "    \"slug\": \"test-choices\",\n"
    "    \"profile_options\": {\n"
    "      \"image\": {\n"
    "        \"display_name\": \"Image\",\n"
    "        \"unlisted_choice\": {\n"
    "          \"enabled\": true,\n"
    "          \"display_name\": \"Image Location\",\n"
    "          \"validation_regex\": \"^pangeo/.*$\",\n"
    "          \"validation_message\": \"Must be a pangeo image, matching ^pangeo/.*$\",\n"
    "          \"kubespawner_override\": {\"image\": \"{value}\", \"extra_labels\": {\"tag\": "
    "\"{value}\", \"{value}-key\": \"x\", \"keep\": \"{other} {{value}}\"}}\n"
    "        },\n"
    "        \"choices\": {\n"
    "          \"pytorch\": {\"display_name\": \"Python 3 Training Notebook\",\n"
    "                      \"kubespawner_override\": {\"image\": "
    "\"pangeo/pytorch-notebook:master\"}},\n"
    "          \"tf\": {\"display_name\": \"R 4.2 Training Notebook\", \"default\": true,\n"
    "                 \"kubespawner_override\": {\"image\": \"training/r:label\"}}\n"
    "        }\n"
    "      },\n"
    "      \"size\": {\n"
    "        \"display_name\": \"Size\",\n"
    "        \"choices\": {\n"
    "          \"small\": {\"display_name\": \"Small\", \"kubespawner_override\": {\"mem_limit\": "
    "\"1G\", \"environment\": {\"SIZE\": \"small\"}}},\n"
    "          \"large\": {\"display_name\": \"Large\", \"kubespawner_override\": {\"mem_limit\": "
    "\"8G\", \"environment\": {\"SIZE\": \"large\", \"override\": null}}}\n"
    "        }\n"
    "      }\n"
    "    },\n"
    "    \"kubespawner_override\": {\"environment\": {\"override\": \"from-profile\", \"PROFILE\": "
    "\"choices\"}}\n"
    "  },\n"
    "  \"z-gpu\": {\n"
    "    \"display_name\": \"GPU Server (A100, 1,000 GB)\",\n"
    "    \"allowed_groups\": [\"gpu\", \"admins\"],\n"
    "    \"kubespawner_override\": {\"extra_resource_limits\": {\"nvidia.com/gpu\": \"1\"}}\n"
    "  }\n"
    "}\n";

static const char want_form_full[] =
    "<style>/*\n"
    "    .profile divs holds two div tags: one for a radio button, and one\n"
    "    for the profile's content.\n"
    "*/\n"
    "#kubespawner-profiles-list .profile {\n"
    "  display: flex;\n"
    "  flex-direction: row;\n"
    "  font-weight: normal;\n"
    "  border-bottom: 1px solid #ccc;\n"
    "  padding-bottom: 12px;\n"
    "}\n"
    "\n"
    "#kubespawner-profiles-list .profile .radio {\n"
    "  padding: 12px;\n"
    "}\n"
    "\n"
    "/* .option divs holds a label and a select tag */\n"
    "#kubespawner-profiles-list .profile .option {\n"
    "  display: flex;\n"
    "  flex-direction: row;\n"
    "  align-items: center;\n"
    "  padding-bottom: 12px;\n"
    "}\n"
    "\n"
    "#kubespawner-profiles-list .profile .option label {\n"
    "  font-weight: normal;\n"
    "  margin-right: 8px;\n"
    "  min-width: 96px;\n"
    "}\n"
    "\n"
    "/* Make .hidden win over the .option flex rule */\n"
    "#kubespawner-profiles-list .profile .option.hidden,\n"
    "#kubespawner-profiles-list .js-other-input-container.hidden {\n"
    "  display: none;\n"
    "}</style>\n"
    "<div class=\"form-group\" id=\"kubespawner-profiles-list\">\n"
    "    <label for=\"profile-item-test-choices\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-test-choices\"\n"
    "               value=\"test-choices\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Test choices</h3>\n"
    "          <div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--image\"\n"
    "                         class=\"js-profile-option-label\">Image</label>\n"
    "                  <select name=\"profile-option-test-choices--image\"\n"
    "                          id=\"profile-option-test-choices--image\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"pytorch\" >Python 3 Training Notebook</option>\n"
    "                      <option value=\"tf\" selected>R 4.2 Training Notebook</option>\n"
    "                      <option value=\"unlisted-choice\">Other...</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "                  <div class=\"option hidden js-other-input-container\">\n"
    "                    <label for=\"profile-option-test-choices--image--unlisted-choice\">\n"
    "                      Image Location\n"
    "                    </label>\n"
    "                    <input data-name=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           id=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           pattern=\"^pangeo/.*$\"\n"
    "                           title=\"Must be a pangeo image, matching ^pangeo/.*$\"\n"
    "                           class=\"form-control js-other-input\" />\n"
    "                  </div>\n"
    "              </div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--size\"\n"
    "                         class=\"js-profile-option-label\">Size</label>\n"
    "                  <select name=\"profile-option-test-choices--size\"\n"
    "                          id=\"profile-option-test-choices--size\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"small\" selected>Small</option>\n"
    "                      <option value=\"large\" >Large</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "              </div>\n"
    "          </div>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-python\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-python\"\n"
    "               value=\"training-python\"\n"
    "               checked  />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - Python</h3><p>A small Python server</p>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-r\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-r\"\n"
    "               value=\"training-r\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - R</h3>\n"
    "      </div>\n"
    "    </label>\n"
    "</div>\n"
    "<script>\n"
    "  const userOptions = {};\n"
    "  $('.js-profile-option-select, .js-profile-option-label').click(function() {\n"
    "    // we need this bit of JS to select the profile when a <select> inside is clicked.\n"
    "    $(this).parents('.js-profile-label')\n"
    "      .find('input[type=radio]')\n"
    "      .prop('checked', true);\n"
    "  });\n"
    "\n"
    "  // If the user selects \"Other\" in the dropdown, show the free text field\n"
    "  $('.js-profile-option-select').change(function() {\n"
    "    const selectionValue = $(this).val();\n"
    "    const $otherInputContainer = "
    "$(this).parents('.js-options-container').find('.js-other-input-container');\n"
    "    const $otherInput = $(this).parents('.js-options-container').find('.js-other-input');\n"
    "    if (selectionValue === 'unlisted-choice') {\n"
    "\n"
    "      // if the Select box is selected with a value that is not 'unlisted-choice',\n"
    "      // we remove the \"name\" attribute for the unlisted-choice input\n"
    "      // and vice-versa, so that we only submit valid form values\n"
    "      // and don't leave the complexity of figuring out which value\n"
    "      // to use to the back-end.\n"
    "\n"
    "      // This can probably be done cleaner by completely refactoring\n"
    "      // how we send values from the frontend.\n"
    "      $(this).data('name', $(this).attr('name'));\n"
    "      $(this).removeAttr('name');\n"
    "      $otherInput.attr('name', $otherInput.data('name'));\n"
    "      $otherInputContainer.removeClass('hidden');\n"
    "    } else {\n"
    "      $otherInput.removeAttr('name');\n"
    "      $(this).attr('name', $(this).data('name'));\n"
    "      $otherInputContainer.addClass('hidden');\n"
    "    }\n"
    "  });\n"
    "\n"
    "  // wrapping in a document.ready to make clear this is executed once\n"
    "  // on page load\n"
    "  $(document).ready(() => {\n"
    "    // Pre-select options from previously saved user_options\n"
    "    const savedProfile = userOptions && userOptions.profile;\n"
    "    if (savedProfile) {\n"
    "      $(`label[for=\"profile-item-${savedProfile}\"] "
    ".js-profile-option-select`).each(function() {\n"
    "        // name format: profile-option-{slug}--{optionKey}\n"
    "        const optionKey = $(this).attr('name').split('--').pop();\n"
    "        const unlistedValue = userOptions[optionKey + '--unlisted-choice'];\n"
    "        const savedValue = userOptions[optionKey];\n"
    "        if (unlistedValue) {\n"
    "          $(this).val('unlisted-choice');\n"
    "          "
    "$(this).parents('.js-options-container').find('.js-other-input').val(unlistedValue);\n"
    "        } else if (savedValue) {\n"
    "          $(this).val(savedValue);\n"
    "        }\n"
    "      });\n"
    "    }\n"
    "    // trigger the `change` event on the select inputs,\n"
    "    // so that if \"Other\" is selected on page load, the corresponding\n"
    "    // free-text input shows\n"
    "    $('.js-profile-option-select').trigger('change');\n"
    "  });\n"
    "\n"
    "</script>";

static const char want_form_chosen[] =
    "<div class=\"form-group\" id=\"kubespawner-profiles-list\">\n"
    "    <label for=\"profile-item-test-choices\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-test-choices\"\n"
    "               value=\"test-choices\"\n"
    "               checked  />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Test choices</h3>\n"
    "          <div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--image\"\n"
    "                         class=\"js-profile-option-label\">Image</label>\n"
    "                  <select name=\"profile-option-test-choices--image\"\n"
    "                          id=\"profile-option-test-choices--image\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"pytorch\" >Python 3 Training Notebook</option>\n"
    "                      <option value=\"tf\" selected>R 4.2 Training Notebook</option>\n"
    "                      <option value=\"unlisted-choice\">Other...</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "                  <div class=\"option hidden js-other-input-container\">\n"
    "                    <label for=\"profile-option-test-choices--image--unlisted-choice\">\n"
    "                      Image Location\n"
    "                    </label>\n"
    "                    <input data-name=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           id=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           pattern=\"^pangeo/.*$\"\n"
    "                           title=\"Must be a pangeo image, matching ^pangeo/.*$\"\n"
    "                           class=\"form-control js-other-input\" />\n"
    "                  </div>\n"
    "              </div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--size\"\n"
    "                         class=\"js-profile-option-label\">Size</label>\n"
    "                  <select name=\"profile-option-test-choices--size\"\n"
    "                          id=\"profile-option-test-choices--size\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"small\" selected>Small</option>\n"
    "                      <option value=\"large\" >Large</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "              </div>\n"
    "          </div>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-python\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-python\"\n"
    "               value=\"training-python\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - Python</h3><p>A small Python server</p>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-r\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-r\"\n"
    "               value=\"training-r\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - R</h3>\n"
    "      </div>\n"
    "    </label>\n"
    "</div>\n"
    "<script>\n"
    "  const userOptions = {\"profile\": \"test-choices\", \"image\": \"pytorch\"}";

static const char want_form_gpu[] =
    "<div class=\"form-group\" id=\"kubespawner-profiles-list\">\n"
    "    <label for=\"profile-item-test-choices\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-test-choices\"\n"
    "               value=\"test-choices\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Test choices</h3>\n"
    "          <div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--image\"\n"
    "                         class=\"js-profile-option-label\">Image</label>\n"
    "                  <select name=\"profile-option-test-choices--image\"\n"
    "                          id=\"profile-option-test-choices--image\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"pytorch\" >Python 3 Training Notebook</option>\n"
    "                      <option value=\"tf\" selected>R 4.2 Training Notebook</option>\n"
    "                      <option value=\"unlisted-choice\">Other...</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "                  <div class=\"option hidden js-other-input-container\">\n"
    "                    <label for=\"profile-option-test-choices--image--unlisted-choice\">\n"
    "                      Image Location\n"
    "                    </label>\n"
    "                    <input data-name=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           id=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           pattern=\"^pangeo/.*$\"\n"
    "                           title=\"Must be a pangeo image, matching ^pangeo/.*$\"\n"
    "                           class=\"form-control js-other-input\" />\n"
    "                  </div>\n"
    "              </div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--size\"\n"
    "                         class=\"js-profile-option-label\">Size</label>\n"
    "                  <select name=\"profile-option-test-choices--size\"\n"
    "                          id=\"profile-option-test-choices--size\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"small\" selected>Small</option>\n"
    "                      <option value=\"large\" >Large</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "              </div>\n"
    "          </div>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-python\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-python\"\n"
    "               value=\"training-python\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - Python</h3><p>A small Python server</p>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-r\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-r\"\n"
    "               value=\"training-r\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - R</h3>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-gpu-server-a100-1000-gb\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-gpu-server-a100-1000-gb\"\n"
    "               value=\"gpu-server-a100-1000-gb\"\n"
    "               checked  />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>GPU Server (A100, 1,000 GB)</h3>\n"
    "      </div>\n"
    "    </label>\n"
    "</div>\n"
    "<script>\n"
    "  const userOptions = {\"profile\": \"gpu-server-a100-1000-gb\"}";

static const char want_form_stale[] =
    "<div class=\"form-group\" id=\"kubespawner-profiles-list\">\n"
    "    <label for=\"profile-item-test-choices\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-test-choices\"\n"
    "               value=\"test-choices\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Test choices</h3>\n"
    "          <div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--image\"\n"
    "                         class=\"js-profile-option-label\">Image</label>\n"
    "                  <select name=\"profile-option-test-choices--image\"\n"
    "                          id=\"profile-option-test-choices--image\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"pytorch\" >Python 3 Training Notebook</option>\n"
    "                      <option value=\"tf\" selected>R 4.2 Training Notebook</option>\n"
    "                      <option value=\"unlisted-choice\">Other...</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "                  <div class=\"option hidden js-other-input-container\">\n"
    "                    <label for=\"profile-option-test-choices--image--unlisted-choice\">\n"
    "                      Image Location\n"
    "                    </label>\n"
    "                    <input data-name=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           id=\"profile-option-test-choices--image--unlisted-choice\"\n"
    "                           pattern=\"^pangeo/.*$\"\n"
    "                           title=\"Must be a pangeo image, matching ^pangeo/.*$\"\n"
    "                           class=\"form-control js-other-input\" />\n"
    "                  </div>\n"
    "              </div>\n"
    "              <div class=\"js-options-container\">\n"
    "                <div class=\"option\">\n"
    "                  <label for=\"profile-option-test-choices--size\"\n"
    "                         class=\"js-profile-option-label\">Size</label>\n"
    "                  <select name=\"profile-option-test-choices--size\"\n"
    "                          id=\"profile-option-test-choices--size\"\n"
    "                          class=\"form-control js-profile-option-select\">\n"
    "                      <option value=\"small\" selected>Small</option>\n"
    "                      <option value=\"large\" >Large</option>\n"
    "                  </select>\n"
    "                </div>\n"
    "              </div>\n"
    "          </div>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-python\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-python\"\n"
    "               value=\"training-python\"\n"
    "               checked  />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - Python</h3><p>A small Python server</p>\n"
    "      </div>\n"
    "    </label>\n"
    "    <label for=\"profile-item-training-r\"\n"
    "           class=\"profile js-profile-label\">\n"
    "      <div class=\"radio\">\n"
    "        <input type=\"radio\"\n"
    "               name=\"profile\"\n"
    "               id=\"profile-item-training-r\"\n"
    "               value=\"training-r\"\n"
    "                />\n"
    "      </div>\n"
    "      <div>\n"
    "        <h3>Training Env - R</h3>\n"
    "      </div>\n"
    "    </label>\n"
    "</div>\n"
    "<script>\n"
    "  const userOptions = {}";

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &e);
    if (!v)
        fail_msg("bad JSON in the test: %s: %s", text, e.text);
    return v;
}

static void assert_json_eq(const json_t *got, const char *want_text)
{
    json_t *want = parse(want_text);
    if (!json_equal((json_t *)got, want)) {
        char *g = got ? json_dumps(got, JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        char *w = json_dumps(want, JSON_SORT_KEYS | JSON_ENCODE_ANY);
        print_error("got  %s\nwant %s\n", g ? g : "NULL", w);
        free(g);
        free(w);
        json_decref(want);
        fail();
    }
    json_decref(want);
}

static void check_fails(const char *list, const char *want_in_message)
{
    json_t *pl = parse(list);
    char err[KUBE_MESSAGE_MAX] = "";
    assert_int_eq(kube_profiles_check(pl, err, sizeof(err)), -EINVAL);
    if (!strstr(err, want_in_message))
        fail_msg("message \"%s\" lacks \"%s\"", err, want_in_message);
    json_decref(pl);
}

static void test_check(void **state)
{
    char err[KUBE_MESSAGE_MAX] = "";
    json_t *pl = parse(profiles);
    assert_int_eq(kube_profiles_check(pl, err, sizeof(err)), 0);
    json_decref(pl);
    assert_int_eq(kube_profiles_check(NULL, err, sizeof(err)), 0);
    pl = parse("[]");
    assert_int_eq(kube_profiles_check(pl, err, sizeof(err)), 0);
    json_decref(pl);

    check_fails("\"small\"", "a list of profiles or a dict");
    check_fails("[1]", "profile 0 must be a dict");
    check_fails("[{\"display_name\": \"A\"}, {\"slug\": \"b\"}]", "profile 1 has no display_name");
    check_fails("{\"x\": {\"display_name\": 3}}", "profile 'x' has a display_name that is not");
    check_fails("[{\"display_name\": \"A\", \"slug\": \"\"}]", "slug must be a non-empty string");
    char *big = malloc(5000), *list = malloc(5100);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    snprintf(list, 5100, "[{\"display_name\": \"%s\"}]", big);
    check_fails(list, "profile 0: display_name is longer than 4096 bytes");
    free(list);
    free(big);
    /* Duplicates, given or made from display_name. */
    check_fails("[{\"display_name\": \"A\", \"slug\": \"a\"}, {\"display_name\": \"B\", \"slug\": "
                "\"a\"}]",
                "profiles 0 and 1 have the same slug 'a'");
    check_fails("[{\"display_name\": \"Big one\"}, {\"display_name\": \"big  ONE!\"}]",
                "same slug 'big-one'");
    check_fails("[{\"display_name\": \"\\u5317\\u4eac\"}]", "give it a \"slug\"");
    check_fails("[{\"display_name\": \"A\", \"default\": true}, {\"display_name\": \"B\", "
                "\"default\": 1}]",
                "more than one profile is the default");
    check_fails("[{\"display_name\": \"A\", \"kubespawner_override\": [1]}]",
                "profile 0 (\"A\"): kubespawner_override must be a dict");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": []}]",
                "profile_options must be a dict");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"choices\": [1]}}}]",
                "profile 0 (\"A\"), profile_options['img']: choices must be a dict");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"choices\": {\"c\": "
                "{\"kubespawner_override\": 1}}}}}]",
                "profile_options['img'], choices['c']: kubespawner_override must be a dict");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"choices\": {\"c\": "
                "{\"default\": true}, \"d\": {\"default\": true}}}}}]",
                "more than one choice is the default");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"unlisted_choice\": "
                "{\"kubespawner_override\": \"x\"}}}}]",
                "unlisted_choice: kubespawner_override must be a dict");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"unlisted_choice\": "
                "{\"validation_regex\": \"^(open\"}}}}]",
                "profile_options['img'], unlisted_choice: validation_regex '^(open' is not valid");
    check_fails("[{\"display_name\": \"A\", \"profile_options\": {\"img\": {\"unlisted_choice\": "
                "{\"validation_regex\": \"^[[:alpha:]]$\"}}}}]",
                "means characters to Python");
    check_fails("[{\"display_name\": \"A\", \"allowed_groups\": \"gpu\"}]",
                "allowed_groups must be a list of group names");
}

/* The slug a display_name gets, as python-slugify makes it (vectors from python-slugify). */
static void slug_is(const char *display_name, const char *want)
{
    json_t *pl = json_pack("[{s:s, s:{s:i}}]", "display_name", display_name, "kubespawner_override",
                           "cpu_limit", 2);
    json_t *uo = json_pack("{s:s}", "profile", want), *out = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    if (kube_profiles_apply(pl, NULL, uo, &out, err, sizeof(err)) < 0)
        fail_msg("\"%s\": %s", display_name, err);
    assert_json_eq(out, "{\"cpu_limit\": 2}");
    json_decref(out);
    json_decref(uo);
    json_decref(pl);
}

static void test_slug(void **state)
{
    slug_is("Training Env - Python", "training-env-python");
    slug_is("GPU Server (A100, 1,000 GB)", "gpu-server-a100-1000-gb");
    slug_is("Bob's  --  server", "bob-s-server");
    slug_is("Caf\xc3\xa9 cr\xc3\xa8me", "cafe-creme");
    slug_is("&amp; a &#65;&#x42; &lt;x&gt;", "a-ab-x");
    slug_is("--A_b--", "a-b");
    slug_is("It&#39;s", "its");
    slug_is("1,2,3 x,y", "123-x-y");
    slug_is("a&quot;b", "a-b");
}

static char *form(const char *const *groups, const char *user_options)
{
    json_t *pl = parse(profiles);
    json_t *uo = user_options ? parse(user_options) : NULL;
    char *html = kube_profiles_form(pl, "alice", groups, uo);
    assert_non_null(html);
    json_decref(uo);
    json_decref(pl);
    return html;
}

/* The part of the form between the style and the script's code, as the generator cut it. */
static void form_part_is(const char *html, const char *want)
{
    const char *a = strstr(html, "<div class=\"form-group\"");
    const char *b = strstr(html, ";\n  $(");
    assert_non_null(a);
    assert_non_null(b);
    char *part = strndup(a, (size_t)(b - a));
    assert_string_equal(part, want);
    free(part);
}

static void test_form(void **state)
{
    char *html = form(NULL, NULL);
    assert_string_equal(html, want_form_full);
    free(html);
    /* The saved options preselect a profile (the JS then selects the choice). */
    const char *users[] = {"users", NULL};
    html = form(users, "{\"profile\": \"test-choices\", \"image\": \"pytorch\"}");
    form_part_is(html, want_form_chosen);
    free(html);
    /* A profile for some groups only: shown to them. */
    const char *gpu[] = {"students", "gpu", NULL};
    html = form(gpu, "{\"profile\": \"gpu-server-a100-1000-gb\"}");
    form_part_is(html, want_form_gpu);
    free(html);
    /* Saved options that no longer fit preselect nothing. */
    html = form(NULL, "{\"profile\": \"gone\"}");
    form_part_is(html, want_form_stale);
    free(html);
    html = form(NULL, "{\"profile\": \"test-choices\", \"image--unlisted-choice\": \"bad\"}");
    form_part_is(html, want_form_stale);
    free(html);

    /* Text is escaped; the saved options are written as |tojson writes them. */
    json_t *pl = parse("[{\"display_name\": \"<b>A&B</b>\", \"slug\": \"a\\\"b\", \"description\": "
                       "\"it's <i>\"}]");
    json_t *uo = parse("{\"profile\": \"a\\\"b\", \"x\": \"</script>&'\\u00e9\\n\"}");
    html = kube_profiles_form(pl, "alice", NULL, uo);
    assert_non_null(html);
    if (!strstr(html, "<h3>&lt;b&gt;A&amp;B&lt;/b&gt;</h3><p>it&#39;s &lt;i&gt;</p>") ||
        !strstr(html, "value=\"a&quot;b\"\n               checked  />") ||
        !strstr(html, "const userOptions = {\"profile\": \"a\\\"b\", \"x\": "
                      "\"\\u003c/script\\u003e\\u0026\\u0027\\u00e9\\n\"};"))
        fail_msg("not escaped: %s", html);
    free(html);
    json_decref(uo);
    json_decref(pl);

    pl = parse("[]");
    assert_null(kube_profiles_form(pl, "alice", NULL, NULL));
    assert_null(kube_profiles_form(NULL, "alice", NULL, NULL));
    json_decref(pl);
}

static void from_form_is(const char *form_text, const char *want)
{
    json_t *f = parse(form_text), *pl = parse(profiles), *uo = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    assert_int_eq(kube_profiles_from_form(pl, f, &uo, err, sizeof(err)), 0);
    assert_json_eq(uo, want);
    json_decref(uo);
    json_decref(pl);
    json_decref(f);
}

static void test_from_form(void **state)
{
    from_form_is("{\"profile\": [\"training-r\"]}", "{\"profile\": \"training-r\"}");
    from_form_is("{\"profile\": [\"test-choices\"], \"profile-option-test-choices--image\": "
                 "[\"pytorch\", \"tf\"]}",
                 "{\"profile\": \"test-choices\", \"image\": \"pytorch\"}");
    from_form_is("{\"profile\": [\"test-choices\"], "
                 "\"profile-option-test-choices--image--unlisted-choice\": "
                 "[\"pangeo/test:latest\"]}",
                 "{\"profile\": \"test-choices\", \"image--unlisted-choice\": "
                 "\"pangeo/test:latest\"}");
    /* Other profiles' options and unknown fields are ignored; no profile, no options. */
    from_form_is("{\"profile\": [\"test-choices\"], \"profile-option-no-regex--image\": [\"tf\"], "
                 "\"_xsrf\": [\"t\"], \"profile-option-test-choices--size\": [\"large\"]}",
                 "{\"profile\": \"test-choices\", \"size\": \"large\"}");
    from_form_is("{\"profile-option-test-choices--size\": [\"large\"]}", "{}");
    from_form_is("{\"profile\": [\"\"]}", "{}");
    from_form_is("{}", "{}");

    json_t *pl = parse(profiles), *uo = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    json_t *f = parse("{\"profile\": \"training-r\"}");
    assert_int_eq(kube_profiles_from_form(pl, f, &uo, err, sizeof(err)), -EINVAL);
    assert_string_equal(err,
                        "Form field 'profile' must be a list of strings of at most 4096 bytes");
    assert_null(uo);
    json_decref(f);
    f = parse("[]");
    assert_int_eq(kube_profiles_from_form(pl, f, &uo, err, sizeof(err)), -EINVAL);
    json_decref(f);
    json_decref(pl);
}

static void apply_is(const char *const *groups, const char *user_options, const char *want)
{
    json_t *pl = parse(profiles), *uo = parse(user_options), *out = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    if (kube_profiles_apply(pl, groups, uo, &out, err, sizeof(err)) < 0)
        fail_msg("%s: %s", user_options, err);
    if (want)
        assert_json_eq(out, want);
    else
        assert_null(out);
    json_decref(out);
    json_decref(uo);
    json_decref(pl);
}

static void apply_fails(const char *list, const char *const *groups, const char *user_options,
                        int want_r, const char *want_err)
{
    json_t *pl = parse(list ? list : profiles), *uo = parse(user_options), *out = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    assert_int_eq(kube_profiles_apply(pl, groups, uo, &out, err, sizeof(err)), want_r);
    assert_string_equal(err, want_err);
    assert_null(out);
    json_decref(uo);
    json_decref(pl);
}

static void test_apply(void **state)
{
    /* test_default_profile, test_user_options_api, test_kubespawner_override. */
    const char *python = "{\"image\": \"training/python:label\", \"cpu_limit\": 1, \"mem_limit\": "
                         "536870912, \"environment\": {\"override\": \"override-value\"}}";
    apply_is(NULL, "{}", python);
    apply_is(NULL, "{\"profile\": \"\"}", python);
    apply_is(NULL, "{\"garbage-arrived-via-rest-api\": \"anything\"}", python);
    apply_is(NULL, "{\"profile\": \"training-r\"}",
             "{\"image\": \"training/r:label\", \"cpu_limit\": 1, \"mem_limit\": 536870912, "
             "\"environment\": {\"override\": \"override-value\", \"to-remove\": null}}");
    /* The profile's override, then each option's choice (default ones too), merged. */
    apply_is(NULL, "{\"profile\": \"test-choices\", \"image\": \"pytorch\"}",
             "{\"environment\": {\"override\": \"from-profile\", \"PROFILE\": \"choices\", "
             "\"SIZE\": \"small\"}, \"image\": \"pangeo/pytorch-notebook:master\", "
             "\"mem_limit\": \"1G\"}");
    apply_is(NULL, "{\"profile\": \"test-choices\", \"size\": \"large\"}",
             "{\"environment\": {\"override\": null, \"PROFILE\": \"choices\", \"SIZE\": "
             "\"large\"}, \"image\": \"training/r:label\", \"mem_limit\": \"8G\"}");
    /* An unlisted choice: {value} in strings and keys, other fields kept, {{ }} unescaped. */
    apply_is(NULL,
             "{\"profile\": \"test-choices\", \"image\": \"tf\", \"image--unlisted-choice\": "
             "\"pangeo/test:latest\"}",
             "{\"environment\": {\"override\": \"from-profile\", \"PROFILE\": \"choices\", "
             "\"SIZE\": \"small\"}, \"image\": \"pangeo/test:latest\", \"mem_limit\": \"1G\", "
             "\"extra_labels\": {\"tag\": \"pangeo/test:latest\", \"pangeo/test:latest-key\": "
             "\"x\", \"keep\": \"{other} {value}\"}}");
    /* Groups. */
    const char *gpu[] = {"admins", NULL};
    apply_is(gpu, "{\"profile\": \"gpu-server-a100-1000-gb\"}",
             "{\"extra_resource_limits\": {\"nvidia.com/gpu\": \"1\"}}");
    apply_fails(NULL, NULL, "{\"profile\": \"gpu-server-a100-1000-gb\"}", -EINVAL,
                "No such profile: gpu-server-a100-1000-gb. Options include: test-choices, "
                "training-python, training-r");
    apply_fails("[{\"display_name\": \"A\", \"allowed_groups\": [\"gpu\"]}]", NULL, "{}", -EACCES,
                "None of the profiles of profile_list is open to your groups: ask an admin");
    /* The default profile of a user who cannot see the list's default: the first they see. */
    const char *staff[] = {"staff", NULL};
    json_t *pl = parse("[{\"display_name\": \"A\", \"default\": true, \"allowed_groups\": [], "
                       "\"kubespawner_override\": {\"image\": \"a\"}}, {\"display_name\": \"B\", "
                       "\"kubespawner_override\": {\"image\": \"b\"}}]");
    json_t *uo = parse("{}"), *out = NULL;
    char err[KUBE_MESSAGE_MAX] = "";
    assert_int_eq(kube_profiles_apply(pl, staff, uo, &out, err, sizeof(err)), 0);
    assert_json_eq(out, "{\"image\": \"b\"}");
    json_decref(out);
    json_decref(uo);
    json_decref(pl);

    /* test_user_options_set_from_form_invalid_regex and friends. */
    apply_fails(NULL, NULL,
                "{\"profile\": \"test-choices\", \"image--unlisted-choice\": "
                "\"invalid/foo:latest\"}",
                -EINVAL, "Received unlisted_choice for image that failed validation regex.");
    apply_fails(NULL, NULL, "{\"profile\": \"test-choices\", \"size--unlisted-choice\": \"huge\"}",
                -EINVAL, "Received unlisted_choice for size without being enabled.");
    apply_fails(NULL, NULL, "{\"profile\": \"nope\"}", -EINVAL,
                "No such profile: nope. Options include: test-choices, training-python, "
                "training-r");
    apply_fails(NULL, NULL, "{\"profile\": 3}", -EINVAL,
                "No such profile: 3. Options include: test-choices, training-python, training-r");
    apply_fails(NULL, NULL, "{\"profile\": \"test-choices\", \"size\": \"medium\"}", -EINVAL,
                "No such choice for size: medium. Options include: small, large");
    apply_fails("[{\"display_name\": \"A\", \"profile_options\": {\"tag\": {\"unlisted_choice\": "
                "{\"enabled\": true}}}}]",
                NULL, "{}", -EINVAL, "Unable to determine a default choice for tag.");
    apply_fails("[{\"display_name\": \"A\", \"profile_options\": {\"tag\": {\"unlisted_choice\": "
                "{\"enabled\": true, \"kubespawner_override\": {\"image\": \"x:{value\"}}}}}]",
                NULL, "{\"tag--unlisted-choice\": \"1\"}", -EINVAL,
                "profile_list: the kubespawner_override of tag's unlisted_choice has a string that "
                "does not format with {value}");
    /* Without a profile_list there is nothing to apply. */
    pl = parse("[]");
    uo = parse("{\"profile\": \"x\"}");
    out = (json_t *)1;
    assert_int_eq(kube_profiles_apply(pl, NULL, uo, &out, err, sizeof(err)), 0);
    assert_null(out);
    json_decref(uo);
    json_decref(pl);
}

/* validation_regex is Python's re.match: anchored at the start only; \d, \w in and out of
 * brackets. */
static void regex_is(const char *regex, const char *value, bool want)
{
    json_t *pl = json_pack("[{s:s, s:{s:{s:{s:b, s:s, s:{s:s}}}}}]", "display_name", "A",
                           "profile_options", "tag", "unlisted_choice", "enabled", 1,
                           "validation_regex", regex, "kubespawner_override", "image", "{value}");
    char err[KUBE_MESSAGE_MAX] = "";
    assert_int_eq(kube_profiles_check(pl, err, sizeof(err)), 0);
    json_t *uo = json_pack("{s:s}", "tag--unlisted-choice", value), *out = NULL;
    int r = kube_profiles_apply(pl, NULL, uo, &out, err, sizeof(err));
    if ((r == 0) != want)
        fail_msg("re.match('%s', '%s') should be %s: %s", regex, value, want ? "True" : "None",
                 err);
    json_decref(out);
    json_decref(uo);
    json_decref(pl);
}

static void test_regex(void **state)
{
    regex_is("^pangeo/.*$", "pangeo/x:1", true);
    regex_is("^pangeo/.*$", "jupyter/x:1", false);
    regex_is("pangeo/", "pangeo/x extra", true);
    regex_is("pangeo/", "xpangeo/", false);
    regex_is("^v\\d+$", "v12", true);
    regex_is("^v\\d+$", "vd", false);
    regex_is("^[\\w./-]+:[\\w.-]+$", "jupyter/base-notebook:2024.1", true);
    regex_is("^[\\w./-]+:[\\w.-]+$", "a:b c", false);
    regex_is("^[\\w./-]+:[\\w.-]+$", "a\\b:c", false);
    regex_is("^a\\.b$", "a.b", true);
    regex_is("^a\\.b$", "axb", false);
    regex_is("^[^\\]x]+$", "abc", true);
    regex_is("^[^\\]x]+$", "a]c", false);
    regex_is("^a\\tb$", "a\tb", true);
    regex_is("^[a\\-z]+$", "a-z", true);
    regex_is("^[a\\-z]+$", "b", false);
    regex_is("(?i)^jupyter/", "Jupyter/x", true);
    regex_is("^(?:a|b)+?$", "abba", true);
    regex_is("^(?:a|b)+?$", "abc", false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check), cmocka_unit_test(test_slug),
        cmocka_unit_test(test_form),  cmocka_unit_test(test_from_form),
        cmocka_unit_test(test_apply), cmocka_unit_test(test_regex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
